// Real Axon instances for the federation bench: `axon start` children on SQLite, each on a port
// chosen beforehand (so a stopped instance comes back at the same address), made peers by rows in
// their peers tables (as `axon peer add` makes them, optionally with the base URL of a slow link),
// a board shared between them, posts, and a wait on a board that ends on events (long polls).
import { randomBytes } from 'node:crypto';
import { startAxon, type RunningServer, cleanUpOnExit } from '../support.js';
import { openDatabase, type AxonDatabase } from '../../src/server/db/database.js';
import { createTestDatabase } from '../../src/test-support/databases.js';
import { registrationProof } from '../../src/test-support/registration.js';
import { freePort } from '../../src/test-support/socks.js';
import { api, type Identity } from '../../src/test-support/federation.js';
import { INSTANCE_NODE_ARGS } from './options.js';

const PASSWORD = 'correct horse battery staple';
/** The most events one read answers (the chat service's MAX_EVENTS_PER_READ). */
const READ_LIMIT = 100;

export interface BenchInstance {
  name: string;
  url: string;
  port: number;
  identity: Identity;
  database: AxonDatabase;
  sysopToken: string;
  /** SIGTERM and wait for the exit; the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** What the running (or last) server wrote, its last bytes, for error messages. */
  output(): string;
  /** Stops it and deletes its data. */
  close(): Promise<void>;
}

/** A JSON call (the tests' helper); throws on anything but 2xx, with the answer in the message. */
export const call = <T>(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<T> => api<T>({ url: base }, path, init);

/** `port`: where it listens (default a free one), e.g. the target of a slow link made first. */
export async function launchInstance(
  name: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<BenchInstance> {
  const db = await createTestDatabase('sqlite');
  const removeData = () => void db.drop();
  cleanUpOnExit().add(removeData);
  const listenPort = port ?? (await freePort());
  const serverEnv = {
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    PORT: String(listenPort),
    AXON_SECRET: randomBytes(32).toString('base64'),
    AXON_REGISTER_RATE_LIMIT: '1000',
    AXON_LOGIN_RATE_LIMIT: '1000',
    ...env,
  };
  let server: RunningServer | undefined = await startAxon(serverEnv, {
    dataDir: db.dir,
    nodeArgs: INSTANCE_NODE_ARGS,
  });
  let lastOutput = server.output;
  // On a hard exit (Ctrl-C) the running server goes too, before its data directory.
  const killServer = () => {
    if (server !== undefined) process.kill(server.pid, 'SIGKILL');
  };
  cleanUpOnExit().add(killServer);
  const url = server.url;
  const database = openDatabase(db.config);
  const identity = await call<Identity>(url, '/api/federation/identity/');
  const { token } = await call<{ token: string }>(url, '/api/auth/register/', {
    method: 'POST',
    body: { username: 'root', password: PASSWORD, ...(await registrationProof(url)) },
  });
  await database.db
    .updateTable('users')
    .set({ is_sysop: true })
    .where('username_lower', '=', 'root')
    .execute();
  const stop = async () => {
    if (server !== undefined) lastOutput = server.output;
    await server?.stop();
    server = undefined;
  };
  return {
    name,
    url,
    port: listenPort,
    identity,
    database,
    sysopToken: token,
    stop,
    start: async () => {
      server ??= await startAxon(serverEnv, { dataDir: db.dir, nodeArgs: INSTANCE_NODE_ARGS });
      lastOutput = server.output;
    },
    output: () => lastOutput(),
    close: async () => {
      await stop();
      await database.close();
      await db.drop();
      cleanUpOnExit().delete(removeData);
      cleanUpOnExit().delete(killServer);
    },
  };
}

/**
 * `self` trusts `other`, reaching it at `baseUrl` (default its own URL; a slow link's URL puts
 * the link on every request self makes to other).
 */
export async function trust(
  self: BenchInstance,
  other: BenchInstance,
  baseUrl = other.url,
): Promise<void> {
  const now = Date.now();
  await self.database.db
    .insertInto('peers')
    .values({
      fingerprint: other.identity.fingerprint,
      pubkey: other.identity.pubkey,
      base_url: baseUrl,
      nickname: other.identity.nickname,
      trusted: true,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** A realtime board with federation_room_id `room` on the hub and on each spoke (a star). */
export async function shareStar(
  room: string,
  hub: BenchInstance,
  spokes: BenchInstance[],
): Promise<Map<BenchInstance, string>> {
  const ids = new Map<BenchInstance, string>();
  const make = async (instance: BenchInstance, peers: BenchInstance[]) => {
    const board = await call<{ id: string }>(instance.url, '/api/boards/', {
      method: 'POST',
      token: instance.sysopToken,
      body: {
        name: room,
        is_realtime: true,
        federation_room_id: room,
        trusted_peers: peers.map((p) => p.identity.fingerprint),
      },
    });
    ids.set(instance, board.id);
  };
  await make(hub, spokes);
  for (const spoke of spokes) await make(spoke, [hub]);
  return ids;
}

export async function register(instance: BenchInstance, username: string): Promise<string> {
  const { token } = await call<{ token: string }>(instance.url, '/api/auth/register/', {
    method: 'POST',
    body: { username, password: PASSWORD, ...(await registrationProof(instance.url)) },
  });
  return token;
}

export function post(
  instance: BenchInstance,
  token: string,
  boardId: string,
  subject: string,
): Promise<{ id: string }> {
  return call(instance.url, '/api/messages/', {
    method: 'POST',
    token,
    body: { board_id: boardId, subject, body: `${subject}, posted by the federation bench.` },
  });
}

/**
 * Long-polls the board until `count` events came after cursor `after`; resolves with the cursor
 * of the last. Each poll is answered the moment an event commits.
 */
export async function waitForCount(
  instance: BenchInstance,
  boardId: string,
  count: number,
  after = '0',
): Promise<string> {
  let seen = 0;
  let cursor = after;
  while (seen < count) {
    const page = await call<{ events: unknown[]; next_cursor: string }>(
      instance.url,
      `/api/boards/${boardId}/read_events/?after=${cursor}&wait=30&limit=${READ_LIMIT}`,
    );
    seen += page.events.length;
    cursor = page.next_cursor;
  }
  return cursor;
}
