// Several server processes on one PostgreSQL database and one data directory: two `axon start`
// processes behind a round-robin proxy serve a user's whole session (sign-up, login, post, chat,
// upload, download) with every request going to the other process than the one before, and the
// shared background jobs run once between them; `axon start --workers 2` forks two workers on one
// port, replaces one that dies and stops them all on SIGTERM; SQLite refuses --workers above 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childPids,
  runAxon,
  startAxon,
  type ChildServer,
  type Env,
} from '../src/test-support/axon-process.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';
import { registrationProof } from '../src/test-support/registration.js';
import {
  startRoundRobinProxy,
  type RoundRobinProxy,
} from '../src/test-support/round-robin-proxy.js';
import { openDatabase } from '../src/server/db/database.js';

const SECRET = 'workers-test-secret-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'axon-workers-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Envelope<T> {
  success: boolean;
  data: T;
  error: { code: string } | null;
}

async function call<T>(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; data: T }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const envelope = (await response.json()) as Envelope<T>;
  if (response.status >= 300)
    throw new Error(`${url}: ${response.status} ${JSON.stringify(envelope)}`);
  return { status: response.status, data: envelope.data };
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('two processes behind a round-robin proxy, one PostgreSQL and one data directory', () => {
  let database: TestDatabase;
  let env: Env;
  const servers: ChildServer[] = [];
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    env = { DATABASE_URL: database.url, AXON_SECRET: SECRET, AXON_DATA_DIR: tempDir() };
    // One after the other: the first migrates the database and creates the instance identity.
    servers.push(await startAxon({ env }));
    servers.push(await startAxon({ env }));
    proxy = await startRoundRobinProxy(servers.map((s) => s.url));
    const created = await runAxon(['user', 'create', 'admin', '--password-stdin', '--sysop'], {
      env,
      input: PASSWORD,
    });
    expect(created.code, created.stderr).toBe(0);
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await database?.drop();
  });

  it('serves a whole session with each request on the other process, without a seam', async () => {
    const base = proxy.url;
    const first = proxy.servedBy.length;
    // The challenge comes from one process and is answered on the other.
    const signedUp = await call<{ token: string }>(`${base}/api/auth/register/`, {
      method: 'POST',
      body: { username: 'alice', password: PASSWORD, ...(await registrationProof(base)) },
    });
    expect(signedUp.status).toBe(201);
    const { data: login } = await call<{ token: string }>(`${base}/api/auth/login/`, {
      method: 'POST',
      body: { username: 'alice', password: PASSWORD },
    });
    const token = login.token;
    const { data: me } = await call<{ username: string }>(`${base}/api/user/profile/`, { token });
    expect(me.username).toBe('alice');

    const { data: admin } = await call<{ token: string }>(`${base}/api/auth/login/`, {
      method: 'POST',
      body: { username: 'admin', password: PASSWORD },
    });
    const { data: board } = await call<{ id: string }>(`${base}/api/boards/`, {
      method: 'POST',
      token: admin.token,
      body: { name: 'Workers' },
    });
    const { data: posted } = await call<{ id: string }>(`${base}/api/messages/`, {
      method: 'POST',
      token,
      body: { board_id: board.id, subject: 'Across processes', body: 'written on one' },
    });
    const { data: read } = await call<{ message: { body: string } }>(
      `${base}/api/messages/${posted.id}/`,
      { token },
    );
    expect(read.message.body).toBe('written on one');

    // Chat: the long poll waits on one process, the line is posted through the other.
    const { data: start } = await call<{ next_cursor: string }>(
      `${base}/api/chat/read_events/?limit=1`,
      { token },
    );
    const poll = call<{ events: { body: string }[] }>(
      `${base}/api/chat/read_events/?after=${start.next_cursor}&wait=30&limit=10`,
      { token },
    );
    await call(`${base}/api/chat/post/`, { method: 'POST', token, body: { text: 'hello both' } });
    expect((await poll).data.events.map((e) => e.body)).toEqual(['hello both']);

    // Upload through one process, download through the other.
    const bytes = randomBytes(700 * 1024);
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'blob.bin');
    const uploaded = await fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const { content_hash: hash } = ((await uploaded.json()) as Envelope<{ content_hash: string }>)
      .data;
    const downloaded = await fetch(`${base}/api/content/stream/${hash}/`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(bytes)).toBe(true);

    // Every request went to the other process than the one before it.
    const served = proxy.servedBy.slice(first);
    expect(served.length).toBeGreaterThan(10);
    for (let i = 1; i < served.length; i++) expect(served[i]).not.toBe(served[i - 1]);
  });

  it('runs each shared background job once between the two processes', async () => {
    const db = openDatabase({ dialect: 'postgres', url: database.url });
    try {
      const jobs = await db.db
        .selectFrom('background_jobs')
        .select(['name', 'runs', 'failures'])
        .orderBy('name')
        .execute();
      // Both processes asked at start; the jobs of an hour (or 5 minutes) ran once, by whichever
      // claimed them.
      expect(jobs.filter((j) => j.name !== 'federation-nonce-cleanup')).toEqual([
        { name: 'attempt-cleanup', runs: 1, failures: 0 },
        { name: 'remote-cache-eviction', runs: 1, failures: 0 },
        { name: 'retention', runs: 1, failures: 0 },
        { name: 'session-cleanup', runs: 1, failures: 0 },
      ]);
    } finally {
      await db.close();
    }
    const { data: health } = await call<{ background_jobs: { name: string }[] }>(
      `${proxy.url}/api/health`,
    );
    expect(health.background_jobs.map((j) => j.name)).toContain('retention');
  });
});

describe('axon start --workers', () => {
  it('refuses more than one worker on SQLite, saying why', async () => {
    const ran = await runAxon(['start', '--workers', '2'], {
      env: { AXON_SECRET: SECRET, AXON_DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1' },
    });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--workers above 1 needs PostgreSQL/);
  });

  it('refuses a count that is not a whole number from 1 to 64', async () => {
    const ran = await runAxon(['start', '--workers', 'many'], {
      env: { AXON_SECRET: SECRET, AXON_DATA_DIR: tempDir() },
    });
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--workers must be a whole number from 1 to 64/);
  });

  it('forks two workers on one port, replaces one that dies, and stops them all on SIGTERM', async () => {
    const database = await createTestDatabase('postgres');
    try {
      const primary = await startAxon({
        args: ['start', '--workers', '2'],
        env: { DATABASE_URL: database.url, AXON_SECRET: SECRET, AXON_DATA_DIR: tempDir() },
      });
      // Both workers listen before one is killed: on PORT=0 a port whose last listener goes is
      // closed, and a worker started later would get another.
      const upLines = () =>
        primary
          .output()
          .split('\n')
          .filter((l) => l.includes('is up at')).length;
      const workers = await until(() => {
        const now = childPids(primary.pid);
        return now.length === 2 && upLines() >= 2 ? now : undefined;
      });
      const health = await call<{ status: string }>(`${primary.url}/api/health`);
      expect(health.data.status).toBe('healthy');

      process.kill(workers[0]!, 'SIGKILL');
      const replaced = await until(() => {
        const now = childPids(primary.pid);
        return now.length === 2 && !now.includes(workers[0]!) && upLines() >= 3 ? now : undefined;
      });
      expect(replaced).toContain(workers[1]);
      // The port stays served while and after a worker is replaced.
      expect((await call<{ status: string }>(`${primary.url}/api/health`)).status).toBe(200);

      const exit = await primary.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      for (const pid of replaced) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await database.drop();
    }
  });
});
