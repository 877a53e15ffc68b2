// Several real Axon instances for federation tests: each `axon start` with its own data directory
// and database (SQLite or PostgreSQL), made peers of each other by rows in their peers tables, a
// board shared between chosen pairs, and waits that end on events (long polls), not on timers.
import { randomBytes } from 'node:crypto';
import { openDatabase, type AxonDatabase, type Dialect } from '../server/db/database.js';
import { startAxon, type ChildServer } from './axon-process.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { registrationProof } from './registration.js';

const PASSWORD = 'correct horse battery staple';

export interface Identity {
  pubkey: string;
  fingerprint: string;
  nickname: string;
}

export interface Instance {
  name: string;
  server: ChildServer;
  /** Base URL (the same across restarts). */
  url: string;
  identity: Identity;
  /** The test's own connection to the instance's database. */
  database: AxonDatabase;
  /** The environment it runs with (database, data directory, secret): for `axon` commands on it. */
  env: Record<string, string>;
  sysopToken: string;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, data directory and database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface Envelope<T> {
  success: boolean;
  data: T;
  error: { code: string; message: string } | null;
}

/** A JSON call to an instance's API; throws on anything but 2xx. */
export async function api<T>(
  instance: Pick<Instance, 'url'>,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${instance.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${text}`);
  return (JSON.parse(text) as Envelope<T>).data;
}

/** `axon start` on its own data directory and database; a sysop account named root. */
export async function startInstance(name: string, dialect: Dialect): Promise<Instance> {
  const db: TestDatabase = await createTestDatabase(dialect);
  const env = {
    DATABASE_URL: db.url,
    AXON_DATA_DIR: db.dir,
    AXON_SECRET: randomBytes(32).toString('base64'),
    AXON_REGISTER_RATE_LIMIT: '1000',
    AXON_LOGIN_RATE_LIMIT: '1000',
  };
  let server = await startAxon({ env });
  const port = new URL(server.url).port;
  const database = openDatabase(db.config);
  const identity = await api<Identity>(server, '/api/federation/identity/');
  const { token } = await api<{ token: string }>(server, '/api/auth/register/', {
    method: 'POST',
    body: { username: 'root', password: PASSWORD, ...(await registrationProof(server.url)) },
  });
  await database.db
    .updateTable('users')
    .set({ is_sysop: true })
    .where('username_lower', '=', 'root')
    .execute();
  const instance: Instance = {
    name,
    server,
    url: server.url,
    identity,
    database,
    env,
    sysopToken: token,
    stop: async () => {
      await instance.server.stop();
    },
    restart: async () => {
      server = await startAxon({ env: { ...env, PORT: port } });
      instance.server = server;
    },
    close: async () => {
      await instance.server.stop();
      await database.close();
      await db.drop();
    },
  };
  return instance;
}

/** Each trusts the other: a trusted peers row on both sides, as a sysop's `axon peer add` makes. */
export async function makePeers(a: Instance, b: Instance): Promise<void> {
  const now = Date.now();
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    await self.database.db
      .insertInto('peers')
      .values({
        fingerprint: other.identity.fingerprint,
        pubkey: other.identity.pubkey,
        base_url: other.url,
        nickname: other.identity.nickname,
        trusted: true,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
}

/**
 * A realtime board with the same federation_room_id on every instance, each listing the given
 * neighbours in trusted_peers. Returns each instance's board id, by instance name.
 */
export async function shareBoard(
  room: string,
  neighbours: Array<[Instance, Instance[]]>,
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [instance, peers] of neighbours) {
    const board = await api<{ id: string }>(instance, '/api/boards/', {
      method: 'POST',
      token: instance.sysopToken,
      body: {
        name: room,
        is_realtime: true,
        federation_room_id: room,
        trusted_peers: peers.map((p) => p.identity.fingerprint),
      },
    });
    ids[instance.name] = board.id;
  }
  return ids;
}

export async function registerOn(instance: Instance, username: string): Promise<string> {
  const { token } = await api<{ token: string }>(instance, '/api/auth/register/', {
    method: 'POST',
    body: { username, password: PASSWORD, ...(await registrationProof(instance.url)) },
  });
  return token;
}

export interface BoardEventJson {
  cursor: string;
  id: string;
  subject: string;
  body: string;
  author: { nickname: string; user_id: string | null; fingerprint: string };
}

/**
 * Long-polls a realtime board until it holds `count` events after `after` (each poll is answered
 * the moment an event commits); returns them, oldest first.
 */
export async function waitForEvents(
  instance: Instance,
  boardId: string,
  count: number,
  after = '0',
): Promise<BoardEventJson[]> {
  const events: BoardEventJson[] = [];
  let cursor = after;
  while (events.length < count) {
    const page = await api<{ events: BoardEventJson[]; next_cursor: string }>(
      instance,
      `/api/boards/${boardId}/read_events/?after=${cursor}&wait=30&limit=100`,
    );
    events.push(...page.events);
    cursor = page.next_cursor;
  }
  // More than asked for is a fault of the sender (an object twice), not a reason to wait less.
  if (events.length !== count) throw new Error(`expected ${count} events, got ${events.length}`);
  return events;
}

/** A chain A (SQLite) – B (PostgreSQL) – C (SQLite): A and C are not peers; `room` is shared along it. */
export interface Chain {
  a: Instance;
  b: Instance;
  c: Instance;
  /** Each instance's board id for the room, by instance name. */
  boards: Record<string, string>;
  close(): Promise<void>;
}

export async function startChain(
  room: string,
  options: {
    /** B reaches C only through this SOCKS5 proxy (its peers row for C: transport socks5). */
    bToCProxy?: string;
  } = {},
): Promise<Chain> {
  const [a, b, c] = await Promise.all([
    startInstance('a', 'sqlite'),
    startInstance('b', 'postgres'),
    startInstance('c', 'sqlite'),
  ]);
  await makePeers(a, b);
  await makePeers(b, c);
  if (options.bToCProxy !== undefined) {
    await b.database.db
      .updateTable('peers')
      .set({ transport: 'socks5', proxy_url: options.bToCProxy })
      .where('fingerprint', '=', c.identity.fingerprint)
      .execute();
  }
  const boards = await shareBoard(room, [
    [a, [b]],
    [b, [a, c]],
    [c, [b]],
  ]);
  return {
    a,
    b,
    c,
    boards,
    close: async () => void (await Promise.all([a, b, c].map((i) => i.close()))),
  };
}
