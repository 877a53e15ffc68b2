// A real app on a throwaway database, for inject-level API tests.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, requestSerializers, type BuildOptions } from '../server/app.js';
import { loadConfig, type Config } from '../server/config.js';
import { createContext, type AppContext } from '../server/context.js';
import { openDatabase, type Dialect } from '../server/db/database.js';
import type { DatabaseSchema } from '../server/db/schema.js';
import { ensureInstanceIdentity } from '../server/modules/federation/identity.js';
import { loadInstanceKeys } from '../server/secrets.js';
import { openTestDatabase, type TestDatabase } from './databases.js';
import { solveChallenge, type RegistrationProof } from './registration.js';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  db: TestDatabase;
  /** Every log line the app wrote (level trace). */
  logs: string[];
  close(): Promise<void>;
}

export async function startTestApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: Pick<BuildOptions, 'onRoute'> & {
    /** Another process of that app's instance: its database and data directory, shared. */
    sharing?: TestApp;
  } = {},
): Promise<TestApp> {
  const { test, database } =
    options.sharing === undefined
      ? await openTestDatabase(dialect)
      : { test: options.sharing.db, database: openDatabase(options.sharing.db.config) };
  const config: Config = {
    ...loadConfig({
      AXON_DATA_DIR: test.dir,
      AXON_LOGIN_RATE_LIMIT: '1000',
      AXON_REGISTER_RATE_LIMIT: '1000',
      // Low, so tests stay fast; the rate still adds bits as a test registers accounts.
      AXON_REGISTER_POW_BITS: '2',
      ...env,
    }),
    database: test.config,
  };
  const keys = loadInstanceKeys(config.secret, config.dataDir);
  const identity = await ensureInstanceIdentity(database, keys.identitySealKey);
  const ctx = createContext(config, database, keys, identity);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const app = await buildApp(ctx, {
    ...(options.onRoute === undefined ? {} : { onRoute: options.onRoute }),
    logger: pino({ level: 'trace', serializers: requestSerializers }, sink),
  });
  return {
    app,
    ctx,
    db: test,
    logs,
    close: async () => {
      await app.close();
      await ctx.federationClient.close();
      await database.close();
      if (options.sharing === undefined) await test.drop();
    },
  };
}

export interface Account {
  token: string;
  id: string;
  username: string;
  password: string;
  recoveryKey: string;
}

let counter = 0;

/** Registers a fresh account through the API. */
export async function registerUser(
  app: FastifyInstance,
  name?: string,
  password = 'correct horse battery',
): Promise<Account> {
  const username = name ?? `user${process.pid}_${++counter}`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register/',
    payload: { username, password, ...(await injectedProof(app)) },
  });
  if (res.statusCode !== 201)
    throw new Error(`register ${username}: ${res.statusCode} ${res.body}`);
  const data = res.json().data;
  return {
    token: data.token,
    id: data.user.id,
    username,
    password,
    recoveryKey: data.recovery_key,
  };
}

/** A solved registration challenge from an app under `inject`. */
export async function injectedProof(app: FastifyInstance): Promise<RegistrationProof> {
  return solveChallenge((await app.inject({ url: '/api/auth/register/challenge/' })).json());
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Gives an account a role, as an operator would with `axon user create --sysop|--moderator`. */
export async function promote(
  t: TestApp,
  username: string,
  role: 'sysop' | 'moderator',
): Promise<void> {
  await t.ctx.database.db
    .updateTable('users')
    .set(role === 'sysop' ? { is_sysop: true } : { is_moderator: true })
    .where('username_lower', '=', username.toLowerCase())
    .execute();
}

/** The usual cast of an API test: a sysop named "root", and members alice and bob. */
export interface Cast {
  sysop: Account;
  alice: Account;
  bob: Account;
}

/** Registers root (made a sysop), alice and bob through the API. */
export async function registerCast(t: TestApp): Promise<Cast> {
  const [sysop, alice, bob] = await registerUsers(t, ['root', 'alice', 'bob'], { root: 'sysop' });
  return { sysop, alice, bob };
}

/** POSTs through the API as `token`; throws unless it answers 201. The created record's id. */
async function create(
  t: TestApp,
  url: string,
  token: string,
  payload: Record<string, unknown>,
): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url, headers: bearer(token), payload });
  if (res.statusCode !== 201) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
  return (res.json().data as { id: string }).id;
}

/** Creates a board through the API with a sysop's token; throws unless it answers 201. */
export const createBoard = (t: TestApp, sysopToken: string, payload: Record<string, unknown>) =>
  create(t, '/api/boards/', sysopToken, payload);

/** Posts a message through the API; throws unless it answers 201. Its id. */
export const postMessage = (t: TestApp, token: string, payload: Record<string, unknown>) =>
  create(t, '/api/messages/', token, payload);

/** Bans the key of an account on this instance for good, as a moderator would. */
export async function banKeyOf(t: TestApp, userId: string, reason = 'test'): Promise<void> {
  const { pubkey } = await t.ctx.database.db
    .selectFrom('users')
    .select('pubkey')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  await t.ctx.bannedPubkeys.ban({
    pubkey,
    reason,
    expiresAt: null,
    actor: { id: null, name: 'test' },
  });
}

/** Says something in AxonChat through the API; throws unless it answers 201. */
export async function sayInChat<E = unknown>(t: TestApp, token: string, text: string): Promise<E> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/chat/post/',
    headers: bearer(token),
    payload: { text },
  });
  if (res.statusCode !== 201) throw new Error(`chat post: ${res.statusCode} ${res.body}`);
  return (res.json() as { data: E }).data;
}

/** Starts the app listening on a loopback port, for tests over real sockets; its base URL. */
export async function listen(t: TestApp): Promise<string> {
  return t.app.listen({ port: 0, host: '127.0.0.1' });
}

/** How many rows a table holds: tests compare it before and after a refused request. */
export async function countRows(t: TestApp, table: keyof DatabaseSchema): Promise<number> {
  const row = await t.ctx.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A multipart/form-data body with one part named "file", for inject-level upload tests. */
export function multipartFile(
  bytes: Buffer,
  filename: string,
): { payload: Buffer; headers: { 'content-type': string } } {
  const boundary = `----axon${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Uploads a file through the API (multipart, under inject) as `token`: the answer, refused or not. */
export function injectUpload(t: TestApp, token: string, bytes: Buffer, filename = 'file.bin') {
  const { payload, headers } = multipartFile(bytes, filename);
  return t.app.inject({
    method: 'POST',
    url: '/api/content/upload/',
    headers: { ...bearer(token), ...headers },
    payload,
  });
}

/** Uploads a file through the API; throws unless it answers 201. Its content hash. */
export async function uploadFile(
  t: TestApp,
  token: string,
  bytes: Buffer,
  filename = 'file.bin',
): Promise<string> {
  const res = await injectUpload(t, token, bytes, filename);
  if (res.statusCode !== 201) throw new Error(`upload ${filename}: ${res.statusCode} ${res.body}`);
  return (res.json().data as { content_hash: string }).content_hash;
}

/** Uploads `bytes` and posts them as an attachment on `boardId`. The content hash. */
export async function postAttachment(
  t: TestApp,
  token: string,
  boardId: string,
  bytes: Buffer,
  filename = 'photo.bin',
): Promise<string> {
  const hash = await uploadFile(t, token, bytes, filename);
  await postMessage(t, token, {
    board_id: boardId,
    subject: 'photo',
    body: 'look',
    attachments: [hash],
  });
  return hash;
}

/**
 * Registers accounts with these names through the API, at once, and gives some of them a role.
 * The accounts, in the order of `names`.
 */
export async function registerUsers<const N extends readonly string[]>(
  t: TestApp,
  names: N,
  roles: Partial<Record<N[number], 'sysop' | 'moderator'>> = {},
): Promise<{ [K in keyof N]: Account }> {
  const accounts = await Promise.all(names.map((name) => registerUser(t.app, name)));
  for (const [name, role] of Object.entries(roles) as [string, 'sysop' | 'moderator'][])
    await promote(t, name, role);
  return accounts as { [K in keyof N]: Account };
}
