// Real-time across server processes: two `axon start` children on one PostgreSQL database (same
// AXON_SECRET, each its own data directory) hand events to each other's long polls and SSE streams
// through LISTEN/NOTIFY, in one cursor order with nothing missed or repeated, also across a
// restart; and on SQLite a reader resumes from a saved cursor after its server restarted (which a
// waiting long poll and an open stream do not hold up).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  startAxon,
  type ChildServer,
  type Env,
} from '../src/test-support/axon-process.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';
import { registrationProof } from '../src/test-support/registration.js';

const SECRET = 'realtime-processes-test-secret-0123456789';
const PASSWORD = 'correct horse battery staple';

const dataDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'axon-rt-'));
  dataDirs.push(dir);
  return dir;
}

/** `axon start` with the rate limits out of the way of the tests' registrations. */
function startServer(env: Env): Promise<ChildServer> {
  return startAxon({
    env: { AXON_REGISTER_RATE_LIMIT: '1000', AXON_LOGIN_RATE_LIMIT: '1000', ...env },
  });
}

interface EventJson {
  cursor: string;
  id: string;
  body: string;
  author: { nickname: string };
}

interface Envelope<T> {
  success: boolean;
  data: T;
}

async function api<T>(
  url: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; token?: string } = {},
): Promise<{ status: number; data: T }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${text}`);
  return { status: response.status, data: (JSON.parse(text) as Envelope<T>).data };
}

async function register(server: ChildServer, username: string): Promise<string> {
  const { data } = await api<{ token: string }>(`${server.url}/api/auth/register/`, {
    method: 'POST',
    body: { username, password: PASSWORD, ...(await registrationProof(server.url)) },
  });
  return data.token;
}

/** The chat stream's URL for EventSource: a stream token, never the session token, in the query. */
async function chatStreamUrl(server: ChildServer, token: string, after: string): Promise<string> {
  const { data } = await api<{ stream_token: string }>(
    `${server.url}/api/chat/events/stream_token/`,
    { method: 'POST', token },
  );
  return `${server.url}/api/chat/events/stream/?after=${after}&stream_token=${data.stream_token}`;
}

async function say(server: ChildServer, token: string, text: string): Promise<EventJson> {
  const { status, data } = await api<EventJson>(`${server.url}/api/chat/post/`, {
    method: 'POST',
    body: { text },
    token,
  });
  expect(status).toBe(201);
  return data;
}

async function currentCursor(server: ChildServer, token: string): Promise<string> {
  const { data } = await api<{ next_cursor: string }>(
    `${server.url}/api/chat/read_events/?limit=1`,
    { token },
  );
  return data.next_cursor;
}

interface Poll {
  events: EventJson[];
  next_cursor: string;
}

const longPoll = (server: ChildServer, token: string, after: string) =>
  api<Poll>(`${server.url}/api/chat/read_events/?after=${after}&wait=30&limit=100`, { token });

/** Long-polls from `after` until `count` events came; returns them in arrival order. */
async function readEvents(
  server: () => ChildServer,
  token: string,
  after: string,
  count: number,
): Promise<EventJson[]> {
  const events: EventJson[] = [];
  let cursor = after;
  while (events.length < count) {
    const { data } = await longPoll(server(), token, cursor);
    events.push(...data.events);
    cursor = data.next_cursor;
  }
  return events;
}

function expectStrictlyIncreasing(events: readonly EventJson[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(Number(events[i]!.cursor)).toBeGreaterThan(Number(events[i - 1]!.cursor));
  }
}

beforeAll(() => {
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does it)');
  }
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('two server processes on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: ChildServer;
  let b: ChildServer;
  let bEnv: Env;
  let alice: string;
  let bob: string;
  /** B's long-poll reader's saved cursors, by event id, from the concurrent-posting test. */
  const readCursors = new Map<string, string>();
  let concurrentIds: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const common = { DATABASE_URL: database.url, AXON_SECRET: SECRET };
    // One after the other: the first migrates the database and creates the instance identity.
    a = await startServer({ ...common, AXON_DATA_DIR: tempDir() });
    bEnv = { ...common, AXON_DATA_DIR: tempDir() };
    b = await startServer(bEnv);
    [alice, bob] = await Promise.all([register(a, 'alice_rt'), register(a, 'bob_rt')]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await database?.drop();
  });

  it("answers a long poll on B the moment an event is posted through A (B's token, A's event)", async () => {
    const after = await currentCursor(b, bob);
    const started = performance.now();
    const poll = longPoll(b, bob, after);
    const posted = await say(a, alice, 'hello from process A');
    const { data } = await poll;
    const elapsed = performance.now() - started;

    expect(data.events.map((e) => e.body)).toEqual(['hello from process A']);
    expect(data.events[0]!.id).toBe(posted.id);
    expect(data.events[0]!.cursor).toBe(posted.cursor);
    expect(data.next_cursor).toBe(posted.cursor);
    expect(data.events[0]!.author.nickname).toBe('alice_rt');
    // Answered by the event, not by the 30-second wait running out.
    expect(elapsed).toBeLessThan(20_000);
  });

  it('delivers an event posted through A to an SSE client of B', async () => {
    const after = await currentCursor(b, bob);
    const source = new EventSource(await chatStreamUrl(b, bob, after));
    try {
      await new Promise<void>((resolve) => source.addEventListener('open', () => resolve()));
      const received = new Promise<{ id: string; data: EventJson }>((resolve) =>
        source.addEventListener('message', (event) =>
          resolve({ id: event.lastEventId, data: JSON.parse(String(event.data)) as EventJson }),
        ),
      );
      const posted = await say(a, alice, 'streamed across processes');
      const { id, data } = await received;
      expect(data.body).toBe('streamed across processes');
      expect(data.id).toBe(posted.id);
      expect(id).toBe(posted.cursor);
    } finally {
      source.close();
    }
  });

  it("gives B's readers 50 concurrent posts through both processes once each, in cursor order", async () => {
    const after = await currentCursor(b, bob);
    const PER_POSTER = 25;
    const sse = new EventSource(await chatStreamUrl(b, alice, after));
    const streamed: EventJson[] = [];
    let streamDone: () => void = () => undefined;
    const streamedAll = new Promise<void>((resolve) => (streamDone = resolve));
    sse.addEventListener('message', (event) => {
      streamed.push(JSON.parse(String(event.data)) as EventJson);
      if (streamed.length >= 2 * PER_POSTER) streamDone();
    });
    try {
      const reading = readEvents(() => b, bob, after, 2 * PER_POSTER);
      // Two posters at once; each posts in order, alternating between the processes.
      const poster = async (
        token: string,
        name: string,
        first: ChildServer,
        second: ChildServer,
      ) => {
        const mine: EventJson[] = [];
        for (let i = 0; i < PER_POSTER; i++) {
          mine.push(await say(i % 2 === 0 ? first : second, token, `${name} ${i}`));
        }
        return mine;
      };
      const [byAlice, byBob] = await Promise.all([
        poster(alice, 'alice', a, b),
        poster(bob, 'bob', b, a),
      ]);
      const read = await reading;
      await streamedAll;

      const posted = [...byAlice, ...byBob];
      concurrentIds = posted.map((e) => e.id);
      for (const list of [read, streamed]) {
        expect(list).toHaveLength(posted.length);
        expect(new Set(list.map((e) => e.id))).toEqual(new Set(posted.map((e) => e.id)));
        expectStrictlyIncreasing(list);
        // Nothing else was posted meanwhile, so the cursors are the 50 after `after`, no gaps.
        expect(list.map((e) => Number(e.cursor))).toEqual(
          Array.from({ length: posted.length }, (_, i) => Number(after) + 1 + i),
        );
        for (const name of ['alice', 'bob']) {
          expect(list.filter((e) => e.body.startsWith(`${name} `)).map((e) => e.body)).toEqual(
            Array.from({ length: PER_POSTER }, (_, i) => `${name} ${i}`),
          );
        }
      }
      // Everyone agrees on each event's cursor: the poster's answer, the poll and the stream.
      const byId = new Map(posted.map((e) => [e.id, e.cursor]));
      for (const e of read) expect(e.cursor).toBe(byId.get(e.id));
      for (const e of streamed) expect(e.cursor).toBe(byId.get(e.id));
      for (const e of read) readCursors.set(e.id, e.cursor);
    } finally {
      sse.close();
    }
  });

  it('resumes from a saved cursor after B restarts: nothing missed, nothing repeated', async () => {
    expect(concurrentIds).toHaveLength(50);
    // The reader had got 45 of the 50 when B went away.
    const ordered = [...readCursors.entries()].sort((x, y) => Number(x[1]) - Number(y[1]));
    const saved = ordered[44]![1];
    const expected = ordered.slice(45).map(([id]) => id);

    const exit = await b.stop('SIGTERM');
    expect(exit.code).toBe(0);
    for (let i = 0; i < 10; i++) expected.push((await say(a, alice, `while B was down ${i}`)).id);
    b = await startServer(bEnv);
    const resumed = readEvents(() => b, bob, saved, expected.length + 5);
    for (let i = 0; i < 5; i++) expected.push((await say(a, alice, `after B came back ${i}`)).id);
    const events = await resumed;

    expect(events.map((e) => e.id)).toEqual(expected);
    expectStrictlyIncreasing(events);
    expect(Number(events[0]!.cursor)).toBe(Number(saved) + 1);
  });
});

describe('resume after a server restart on SQLite', () => {
  it('a reader resumes from its saved cursor after the server restarted on the same data directory', async () => {
    const env: Env = { AXON_DATA_DIR: tempDir() };
    let server = await startServer(env);
    try {
      const [token, dave] = await Promise.all([
        register(server, 'carol_rt'),
        register(server, 'dave_rt'),
      ]);
      const start = await currentCursor(server, token);
      const before: EventJson[] = [];
      for (let i = 0; i < 5; i++) before.push(await say(server, token, `before restart ${i}`));
      const first = await readEvents(() => server, token, start, 3);
      const saved = first[2]!.cursor; // the reader had got three of them
      expect(first.slice(0, 3).map((e) => e.id)).toEqual(before.slice(0, 3).map((e) => e.id));

      // A waiting long poll and an open stream do not hold the stop up: the poll answers (with
      // nothing, and no keep-alive), the stream ends, and the process exits by itself.
      const latest = before[4]!.cursor;
      const waiting = fetch(`${server.url}/api/chat/read_events/?after=${latest}&wait=30`, {
        headers: { authorization: `Bearer ${dave}` },
      });
      // Dave's poll marks him present just before it waits.
      const present = async () =>
        (
          await api<{ users: Array<{ nickname: string }> }>(`${server.url}/api/chat/presence/`, {
            token,
          })
        ).data.users.some((u) => u.nickname === 'dave_rt');
      while (!(await present())) await new Promise((resolve) => setTimeout(resolve, 20));
      const stream = await fetch(await chatStreamUrl(server, token, latest));
      expect(stream.status).toBe(200);
      const streamEnded = (async () => {
        const reader = stream.body!.getReader();
        for (;;) if ((await reader.read()).done) return true;
      })();
      const exit = await server.stop('SIGTERM');
      expect(exit.code).toBe(0);
      const answered = await waiting;
      expect(answered.status).toBe(200);
      expect(answered.headers.get('connection')).toBe('close');
      expect(((await answered.json()) as { data: Poll }).data).toEqual({
        events: [],
        next_cursor: latest,
      });
      expect(await streamEnded).toBe(true);

      server = await startServer(env);
      const resumed = readEvents(() => server, token, saved, 5);
      const after: EventJson[] = [];
      for (let i = 0; i < 3; i++) after.push(await say(server, token, `after restart ${i}`));
      const events = await resumed;

      expect(events.map((e) => e.body)).toEqual([
        'before restart 3',
        'before restart 4',
        'after restart 0',
        'after restart 1',
        'after restart 2',
      ]);
      expect(events.map((e) => e.id)).toEqual([...before.slice(3), ...after].map((e) => e.id));
      expectStrictlyIncreasing(events);
      expect(Number(events[0]!.cursor)).toBe(Number(saved) + 1);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
