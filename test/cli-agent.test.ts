// `axon agent …` end to end, as a child process beside a running server on SQLite and PostgreSQL:
// create and list agents, issue a scoped token (printed once, stored hashed), post with it, see it
// refused outside its scope and dead once revoked; an agent never logs in with a password.
// The tests in each dialect's block run in order and build on one another's state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Dialect } from '../src/server/db/database.js';
import {
  runAxon,
  startAxon,
  type ChildServer as Server,
  type Env,
} from '../src/test-support/axon-process.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';

const PASSWORD = 'correct horse battery staple';

const axon = (args: string[], env: Env, input = '') => runAxon(args, { env, input });

async function axonJson<T>(args: string[], env: Env): Promise<T> {
  const result = await axon(args, env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

interface Envelope<T> {
  data: T | null;
  error: { code: string; message: string } | null;
}

async function api<T>(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Envelope<T> }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Envelope<T> };
}

interface TokenJson {
  id: string;
  label: string;
  boards: string[];
  applets: string[];
  token?: string;
}

describe.each(DIALECTS)('axon agent on %s', (dialect: Dialect) => {
  let test: TestDatabase;
  let env: Env;
  let server: Server;
  let sysopToken: string;
  let bots: string;
  let quiet: string;
  let token: string;
  let tokenId: string;

  const post = (bearer: string, board: string) =>
    api<{ id: string; author: { nickname: string; is_agent: boolean } }>(
      `${server.url}/api/messages/`,
      { method: 'POST', token: bearer, body: { board_id: board, subject: 'tick', body: 'tock' } },
    );

  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    env = {
      DATABASE_URL: test.url,
      AXON_DATA_DIR: test.dir,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
    };
    expect(
      (await axon(['user', 'create', 'root', '--sysop', '--password-stdin'], env, PASSWORD)).code,
    ).toBe(0);
    server = await startAxon({ env });
    const login = await api<{ token: string }>(`${server.url}/api/auth/login/`, {
      method: 'POST',
      body: { username: 'root', password: PASSWORD },
    });
    sysopToken = login.body.data!.token;
    const board = async (name: string) =>
      (
        await api<{ id: string }>(`${server.url}/api/boards/`, {
          method: 'POST',
          token: sysopToken,
          body: { name },
        })
      ).body.data!.id;
    bots = await board('bots');
    quiet = await board('quiet');
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await test?.drop();
  });

  it('creates an agent with its own key, once, and lists it', async () => {
    const created = await axonJson<{ name: string; nickname: string; fingerprint: string }>(
      ['agent', 'create', 'herald', '--nickname', 'Herald', '--json'],
      env,
    );
    expect(created).toMatchObject({ name: 'herald', nickname: 'Herald' });
    expect(created.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const again = await axon(['agent', 'create', 'Herald'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/taken/);
    const listed = await axonJson<Array<{ name: string }>>(['agent', 'list', '--json'], env);
    expect(listed.map((a) => a.name)).toEqual(['herald']);
    // `axon user create --agent` is gone: an agent made that way would have had a password.
    expect(
      (await axon(['user', 'create', 'x', '--agent', '--password-stdin'], env, PASSWORD)).code,
    ).toBe(2);
  });

  it('issues a token printed once and stored only as its hash', async () => {
    const refused = await axon(['agent', 'token', 'herald'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/at least one board or applet/);
    const unknown = await axon(['agent', 'token', 'herald', '--board', 'nowhere'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no such board: nowhere/);

    const issued = await axonJson<TokenJson>(
      ['agent', 'token', 'herald', '--board', 'bots', '--label', 'ticker', '--json'],
      env,
    );
    expect(issued).toMatchObject({ label: 'ticker', boards: [bots], applets: [] });
    token = issued.token!;
    tokenId = issued.id;
    expect(token).toMatch(/^axa_/);
    const listed = await axon(['agent', 'tokens', 'herald', '--json'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(tokenId);
    expect(listed.stdout).not.toContain(token);
    const database = openDatabase(test.config);
    try {
      const rows = await database.db.selectFrom('agent_tokens').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(token);
    } finally {
      await database.close();
    }
  });

  it('posts as a bot with the token, only where the token allows', async () => {
    const posted = await post(token, bots);
    expect(posted.status).toBe(201);
    expect(posted.body.data?.author).toMatchObject({ nickname: 'Herald', is_agent: true });
    const elsewhere = await post(token, quiet);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error?.code).toBe('AGENT_SCOPE');
    const page = await api<{ items: unknown[] }>(`${server.url}/api/boards/${quiet}/messages/`, {
      token: sysopToken,
    });
    expect(page.body.data?.items).toEqual([]);
  });

  it('never logs in with a password', async () => {
    const login = await api(`${server.url}/api/auth/login/`, {
      method: 'POST',
      body: { username: 'herald', password: PASSWORD },
    });
    expect(login.status).toBe(401);
  });

  it('revokes a token: the running server refuses it at once', async () => {
    const revoked = await axon(['agent', 'revoke', tokenId], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked token ${tokenId}`);
    expect((await post(token, bots)).status).toBe(401);
    const again = await axon(['agent', 'revoke', tokenId], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found/);
  });
});
