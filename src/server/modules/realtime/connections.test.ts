// Open streams and parked long polls over real HTTP, on SQLite and PostgreSQL: they end promptly
// when their holder's rights go (logout, a ban of the account or of its key, the board's read
// access changing) while others' keep flowing; a stream ends at its maximum lifetime; and streams
// plus long polls are capped per session (429) and in total (503).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  banKeyOf,
  bearer,
  createBoard,
  listen,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { until } from '../../../test-support/wait.js';

interface Held {
  status: number;
  /** Resolves with everything received once the server ends the response. */
  ended: Promise<string>;
  /** What was received so far. */
  text: () => string;
}

interface Holding {
  /** Resolves when the answer's head arrives: at once for a stream, when answered for a poll. */
  response: Promise<Held>;
  close: () => void;
}

/** A GET held open over a real socket: a stream, or a long poll. */
function start(base: string, path: string, token?: string): Holding {
  const request = http.get(`${base}${path}`, {
    headers: token === undefined ? {} : bearer(token),
    agent: false,
  });
  const response = new Promise<Held>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (answer) => {
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (body += chunk));
      const ended = new Promise<string>((done) => {
        answer.on('end', () => done(body));
        answer.on('close', () => done(body));
      });
      resolve({ status: answer.statusCode ?? 0, ended, text: () => body });
    });
  });
  // A request closed by the test itself ends in an error nobody waits for.
  response.catch(() => undefined);
  return { response, close: () => request.destroy() };
}

const hold = async (base: string, path: string, token?: string) => {
  const holding = start(base, path, token);
  return { ...(await holding.response), close: holding.close };
};

describe.each(DIALECTS)('streams and long polls losing their rights on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let sysop: Account;
  let board: string;
  const open = () => t.ctx.realtime.connections.size;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    base = await listen(t);
    sysop = await registerUser(t.app, 'root');
    await promote(t, sysop.username, 'sysop');
    board = await createBoard(t, sysop.token, {
      name: 'Live',
      is_realtime: true,
      read_access: 'public',
    });
  });
  afterAll(() => t.close());

  it('ends the stream and answers the long poll of a session that logs out', async () => {
    const alice = await registerUser(t.app);
    const cursor = (
      await t.app.inject({ url: '/api/chat/read_events/', headers: bearer(alice.token) })
    ).json().data.next_cursor;
    const before = open();
    const stream = await hold(base, '/api/chat/events/stream/', alice.token);
    const polling = start(base, `/api/chat/read_events/?after=${cursor}&wait=30`, alice.token);
    expect(stream.status).toBe(200);
    await until(() => open() === before + 2);
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout/',
      headers: bearer(alice.token),
    });
    expect(out.statusCode).toBe(200);
    await stream.ended;
    const poll = await polling.response;
    expect(poll.status).toBe(200);
    expect(JSON.parse(await poll.ended).data.events).toEqual([]);
    await until(() => open() === before);
    expect((await hold(base, '/api/chat/events/stream/', alice.token)).status).toBe(401);
  });

  it('ends the streams of a banned account, and of a banned key', async () => {
    const [bob, carol, dave] = await Promise.all([
      registerUser(t.app),
      registerUser(t.app),
      registerUser(t.app),
    ]);
    const path = `/api/boards/${board}/events/stream/`;
    const before = open();
    const [bobs, carols, daves] = await Promise.all([
      hold(base, path, bob.token),
      hold(base, path, carol.token),
      hold(base, path, dave.token),
    ]);
    await until(() => open() === before + 3);
    await t.ctx.accounts.ban(bob.username, { reason: 'test', actor: { id: null, name: 'test' } });
    await bobs.ended;
    // Banning ends the account's sessions too.
    expect((await hold(base, path, bob.token)).status).toBe(401);
    await banKeyOf(t, carol.id);
    await carols.ended;
    // Dave's rights did not change: his stream still gets events.
    await t.app.inject({
      method: 'POST',
      url: `/api/boards/${board}/post_event/`,
      headers: bearer(sysop.token),
      payload: { subject: 'still here', body: 'x' },
    });
    await until(() => daves.text().includes('still here'));
    expect(open()).toBe(before + 1);
    daves.close();
  });

  it("ends the visitors' streams when the board becomes members-only, not the members'", async () => {
    const erin = await registerUser(t.app);
    const path = `/api/boards/${board}/events/stream/`;
    const before = open();
    const visitor = await hold(base, path);
    const member = await hold(base, path, erin.token);
    await until(() => open() === before + 2);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/boards/${board}/`,
      headers: bearer(sysop.token),
      payload: { read_access: 'members' },
    });
    expect(patched.statusCode).toBe(200);
    await visitor.ended;
    expect((await hold(base, path)).status).toBe(404);
    await t.app.inject({
      method: 'POST',
      url: `/api/boards/${board}/post_event/`,
      headers: bearer(sysop.token),
      payload: { subject: 'members only now', body: 'x' },
    });
    await until(() => member.text().includes('members only now'));
    expect(open()).toBe(before + 1);
    member.close();
  });
});

describe.each(DIALECTS)('stream limits on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let board: string;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect, {
      AXON_STREAMS_PER_SESSION: '2',
      AXON_STREAMS_TOTAL: '3',
      AXON_STREAM_MAX_SECONDS: '1',
    });
    base = await listen(t);
    const sysop = await registerUser(t.app, 'root');
    await promote(t, sysop.username, 'sysop');
    alice = await registerUser(t.app);
    board = await createBoard(t, sysop.token, {
      name: 'Live',
      is_realtime: true,
      read_access: 'public',
    });
  });
  afterAll(() => t.close());

  it('ends a stream at its maximum lifetime; the client resumes by cursor', async () => {
    const stream = await hold(base, `/api/boards/${board}/events/stream/`, alice.token);
    expect(stream.status).toBe(200);
    await stream.ended;
    await until(() => t.ctx.realtime.connections.size === 0);
  });

  it('caps streams and long polls per session (429) and in total (503)', async () => {
    const path = `/api/boards/${board}/read_events/?after=0&wait=30`;
    const polls = [start(base, path, alice.token), start(base, path, alice.token)];
    await until(() => t.ctx.realtime.connections.size === 2);
    const third = await hold(base, path, alice.token);
    expect(third.status).toBe(429);
    expect(JSON.parse(await third.ended).error.code).toBe('TOO_MANY_STREAMS');
    const visitor = start(base, path);
    await until(() => t.ctx.realtime.connections.size === 3);
    const busy = await hold(base, path);
    expect(busy.status).toBe(503);
    expect(JSON.parse(await busy.ended).error.code).toBe('SERVER_BUSY');
    // A plain poll (no wait) holds nothing open and is never refused.
    const poll = await t.app.inject({ url: `/api/boards/${board}/read_events/?after=0` });
    expect(poll.statusCode).toBe(200);
    polls[0]!.close();
    await until(() => t.ctx.realtime.connections.size === 2);
    const again = start(base, path, alice.token);
    await until(() => t.ctx.realtime.connections.size === 3);
    for (const held of [polls[1]!, visitor, again]) held.close();
    await until(() => t.ctx.realtime.connections.size === 0);
  });
});
