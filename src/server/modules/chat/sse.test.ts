// Server-Sent Events over a real socket on SQLite and PostgreSQL: EventSource gets the events in
// order with the cursor as the event id; resuming with ?after=, a Last-Event-ID header or the
// client's own reconnect repeats nothing; a visitor gets 404 before any stream opens; and a client
// that stops reading is dropped while the others keep receiving everything.
import { EventSource, type EventSourceInit } from 'eventsource';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  listen,
  registerUser,
  sayInChat,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { until } from '../../../test-support/wait.js';
import { BoardInput } from '../boards/schema.js';

interface EventJson {
  cursor: string;
  id: string;
  board_id: string;
  subject: string;
  body: string;
  body_html: string;
  author: {
    fingerprint: string;
    nickname: string;
    user_id: string | null;
    avatar_url: string | null;
  };
  created_at: string;
  created_at_local: string;
}

interface Received {
  lastEventId: string;
  data: EventJson;
}

/** An EventSource that keeps everything it got and lets a test wait for a count (no time limit). */
class Reader {
  readonly received: Received[] = [];
  opens = 0;
  errors = 0;
  readonly source: EventSource;
  private waiters: Array<{ ready: () => boolean; resolve: () => void }> = [];

  constructor(url: string, init?: EventSourceInit) {
    this.source = new EventSource(url, init);
    this.source.addEventListener('open', () => {
      this.opens++;
      this.check();
    });
    this.source.addEventListener('error', () => {
      this.errors++;
      this.check();
    });
    this.source.addEventListener('message', (event) => {
      this.received.push({
        lastEventId: event.lastEventId,
        data: JSON.parse(String(event.data)) as EventJson,
      });
      this.check();
    });
  }

  /** Resolves once `ready()` holds; re-checked on every open, error and message. */
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  untilOpen(times = 1): Promise<void> {
    return this.until(() => this.opens >= times);
  }

  untilCount(count: number): Promise<void> {
    return this.until(() => this.received.length >= count);
  }

  bodies(): string[] {
    return this.received.map((r) => r.data.body);
  }

  close(): void {
    this.source.close();
  }

  private check(): void {
    const ready = this.waiters.filter((w) => w.ready());
    this.waiters = this.waiters.filter((w) => !w.ready());
    for (const w of ready) w.resolve();
  }
}

/** Cursors strictly increasing, and each message's id field equal to its data's cursor. */
function expectOrderedAndLabelled(received: readonly Received[]): void {
  const cursors = received.map((r) => Number(r.data.cursor));
  for (const r of received) expect(r.lastEventId).toBe(r.data.cursor);
  for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1]!);
}

describe.each(DIALECTS)('chat event streams (SSE) on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  const readers: Reader[] = [];

  beforeAll(async () => {
    t = await startTestApp(dialect);
    base = await listen(t);
    [alice, bob, carol] = await Promise.all([
      registerUser(t.app),
      registerUser(t.app),
      registerUser(t.app),
    ]);
  });
  afterAll(async () => {
    for (const r of readers) r.close();
    await t?.close();
  });

  const open = (url: string, init?: EventSourceInit) => {
    const reader = new Reader(url, init);
    readers.push(reader);
    return reader;
  };
  /** A stream's URL as EventSource needs it: with a stream token, never the session token. */
  const streamUrl = async (token: string, after?: string, prefix = '/api/chat/') => {
    const res = await t.app.inject({
      method: 'POST',
      url: `${prefix}events/stream_token/`,
      headers: bearer(token),
    });
    expect(res.statusCode).toBe(200);
    const query = new URLSearchParams({ stream_token: res.json().data.stream_token });
    if (after !== undefined) query.set('after', after);
    return `${base}${prefix}events/stream/?${query}`;
  };

  const say = (account: Account, text: string) => sayInChat<EventJson>(t, account.token, text);

  async function currentCursor(): Promise<string> {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/chat/read_events/?limit=1',
      headers: bearer(alice.token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ data: { next_cursor: string } }>().data.next_cursor;
  }

  it('streams events in order, with the cursor as the event id and the event as JSON data', async () => {
    const start = await currentCursor();
    const reader = open(await streamUrl(alice.token, start));
    await reader.untilOpen();
    const posted: EventJson[] = [];
    for (let i = 0; i < 6; i++) posted.push(await say(i % 2 === 0 ? alice : bob, `in order ${i}`));
    await reader.untilCount(posted.length);
    reader.close();

    expect(reader.received.map((r) => r.data)).toEqual(posted);
    expectOrderedAndLabelled(reader.received);
    expect(Number(reader.received[0]!.data.cursor)).toBeGreaterThan(Number(start));
    expect(reader.errors).toBe(0);
  });

  it('resumes after ?after= without repeating what came before it', async () => {
    const start = await currentCursor();
    const first = open(await streamUrl(alice.token, start));
    await first.untilOpen();
    for (const text of ['resume 1', 'resume 2', 'resume 3']) await say(alice, text);
    await first.untilCount(3);
    first.close();
    const saved = first.received[1]!.lastEventId; // as if the client had only seen two of them
    for (const text of ['resume 4', 'resume 5']) await say(bob, text);

    const second = open(await streamUrl(alice.token, saved));
    await second.untilOpen();
    await say(alice, 'resume 6');
    await second.untilCount(4);
    second.close();
    expect(second.bodies()).toEqual(['resume 3', 'resume 4', 'resume 5', 'resume 6']);
    expectOrderedAndLabelled(second.received);
    expect(second.received[0]!.data.id).toBe(first.received[2]!.data.id);
  });

  it('resumes after a Last-Event-ID header, which wins over the ?after= in the URL', async () => {
    const start = await currentCursor();
    const early = await say(alice, 'header 1');
    const saved = (await say(alice, 'header 2')).cursor;
    await say(bob, 'header 3');

    // The URL still says ?after=<start>, as an EventSource's URL does after it reconnects.
    const reader = open(`${base}/api/chat/events/stream/?after=${start}`, {
      fetch: (url, init) =>
        fetch(url, {
          ...init,
          headers: { ...init.headers, 'Last-Event-ID': saved, ...bearer(bob.token) },
        }),
    });
    await reader.untilOpen();
    await say(bob, 'header 4');
    await reader.untilCount(2);
    reader.close();
    expect(reader.bodies()).toEqual(['header 3', 'header 4']);
    expect(reader.received.some((r) => r.data.id === early.id)).toBe(false);
    expectOrderedAndLabelled(reader.received);
  });

  it("resumes by itself after the server drops the connection, through EventSource's Last-Event-ID", async () => {
    const start = await currentCursor();
    const reader = open(await streamUrl(bob.token, start));
    await reader.untilOpen();
    await say(alice, 'before the drop 1');
    await say(alice, 'before the drop 2');
    await reader.untilCount(2);

    t.app.server.closeAllConnections();
    await reader.until(() => reader.errors >= 1);
    await say(alice, 'while away 1');
    await say(bob, 'while away 2');
    await reader.untilOpen(2); // the server asked for a 3 s retry
    await say(alice, 'after the reconnect');
    await reader.untilCount(5);
    reader.close();
    expect(reader.bodies()).toEqual([
      'before the drop 1',
      'before the drop 2',
      'while away 1',
      'while away 2',
      'after the reconnect',
    ]);
    expectOrderedAndLabelled(reader.received);
  });

  it("hides an ignored author's events from that reader only, in streams and long polls woken together", async () => {
    const bobsFingerprint = (await say(bob, 'before carol ignores bob')).author.fingerprint;
    const ignore = await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(carol.token),
      payload: { pubkey: bobsFingerprint },
    });
    expect(ignore.statusCode, ignore.body).toBe(201);

    const start = await currentCursor();
    const aliceStream = open(await streamUrl(alice.token, start));
    const carolStream = open(await streamUrl(carol.token, start));
    await Promise.all([aliceStream.untilOpen(), carolStream.untilOpen()]);
    const poll = (account: Account) =>
      fetch(`${base}/api/chat/read_events/?after=${start}&wait=30`, {
        headers: bearer(account.token),
      }).then(async (res) => {
        expect(res.status).toBe(200);
        return ((await res.json()) as { data: { events: EventJson[]; next_cursor: string } }).data;
      });
    const parked = t.ctx.realtime.longPolls.parked;
    const alicePoll = poll(alice);
    const carolPoll = poll(carol);
    // Both polls waiting, so the posts reach them by hand-over (and carol's is not handed bob's).
    await until(() => t.ctx.realtime.longPolls.parked === parked + 2);
    const fromBob = await say(bob, 'carol does not see this');
    const fromAlice = await say(alice, 'everyone sees this');

    await aliceStream.untilCount(2);
    await carolStream.untilCount(1);
    expect(aliceStream.bodies()).toEqual(['carol does not see this', 'everyone sees this']);
    expect(carolStream.bodies()).toEqual(['everyone sees this']);
    const [aliceGot, carolGot] = await Promise.all([alicePoll, carolPoll]);
    expect(aliceGot.events[0]!.id).toBe(fromBob.id);
    expect(carolGot.events.map((e) => e.id)).toEqual([fromAlice.id]);
    expect(carolGot.next_cursor).toBe(fromAlice.cursor);
    aliceStream.close();
    carolStream.close();
  });

  it('answers a visitor without a token 404 with the JSON envelope before any stream opens', async () => {
    const res = await fetch(`${base}/api/chat/events/stream/`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as {
      success: boolean;
      data: unknown;
      error: { code: string } | null;
    };
    expect(body).toMatchObject({ success: false, data: null, error: { code: 'NOT_FOUND' } });

    const badToken = await fetch(`${base}/api/chat/events/stream/?stream_token=not-a-token`);
    expect(badToken.status).not.toBe(200);
    expect(badToken.headers.get('content-type')).toMatch(/^application\/json/);
    await badToken.body?.cancel();
  });

  it('opens streams with stream tokens only: never the session token in a URL', async () => {
    const chatStream = `${base}/api/chat/events/stream/`;
    // The session token in the query is refused before anything opens (it would reach logs).
    const inUrl = await fetch(`${chatStream}?access_token=${encodeURIComponent(alice.token)}`);
    expect(inUrl.status).toBe(400);
    expect(((await inUrl.json()) as { error: { code: string } }).error.code).toBe(
      'VALIDATION_ERROR',
    );
    // Nor does a session token pass for a stream token.
    const asStreamToken = await fetch(`${chatStream}?stream_token=${alice.token}`);
    expect(asStreamToken.status).toBe(401);
    await asStreamToken.body?.cancel();
    // Visitors get none; a token is for one board's stream, and never a bearer token.
    const visitor = await t.app.inject({ method: 'POST', url: '/api/chat/events/stream_token/' });
    expect(visitor.statusCode).toBe(401);
    const url = new URL(await streamUrl(carol.token));
    const token = url.searchParams.get('stream_token')!;
    const asBearer = await t.app.inject({ url: '/api/user/profile/', headers: bearer(token) });
    expect(asBearer.statusCode).toBe(401);
    const sysopsOnly = await t.ctx.boards.create(
      BoardInput.parse({ name: 'sysop-stream', is_realtime: true, read_access: 'sysops' }),
    );
    const otherBoard = await fetch(
      `${base}/api/boards/${sysopsOnly.id}/events/stream/?stream_token=${token}`,
    );
    expect(otherBoard.status).toBe(403);
    await otherBoard.body?.cancel();
    const forbiddenBoard = await t.app.inject({
      method: 'POST',
      url: `/api/boards/${sysopsOnly.id}/events/stream_token/`,
      headers: bearer(carol.token),
    });
    expect(forbiddenBoard.statusCode).toBe(404);
    // A live token opens the stream; after logout it no longer does.
    const reader = open(url.toString());
    await reader.untilOpen();
    reader.close();
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout/',
      headers: bearer(carol.token),
    });
    expect(out.statusCode).toBe(200);
    const afterLogout = await fetch(url);
    expect(afterLogout.status).toBe(401);
    expect(((await afterLogout.json()) as { error: { code: string } }).error.code).toBe(
      'SESSION_EXPIRED',
    );
  });

  it('delivers one event larger than the drop bound to a client that reads, without dropping it', async () => {
    const applet = await t.ctx.applets.create({
      name: `large ${dialect}`,
      description: '',
      ownerId: null,
    });
    const reader = open(await streamUrl(bob.token, '0', `/api/applets/${applet.id}/`));
    await reader.untilOpen();
    // 65,000 '<' is a valid body; as JSON with its HTML (&lt;) it is over 256 KiB on the wire.
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${applet.id}/post_event/`,
      headers: bearer(alice.token),
      payload: { subject: 'large', body: '<'.repeat(65_000) },
    });
    expect(res.statusCode, res.body).toBe(201);
    await say(alice, 'not on this board'); // other traffic meanwhile
    const after = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${applet.id}/post_event/`,
      headers: bearer(alice.token),
      payload: { subject: 'small', body: 'after the large one' },
    });
    expect(after.statusCode, after.body).toBe(201);
    await reader.untilCount(2);
    reader.close();
    expect(reader.received.map((r) => r.data.subject)).toEqual(['large', 'small']);
    expect(reader.received[0]!.data.body).toHaveLength(65_000);
    expect(reader.opens).toBe(1);
    expect(reader.errors).toBe(0);
  });

  it('drops a client that stops reading, while a reading client still gets every event', async () => {
    const applet = await t.ctx.applets.create({
      name: `slow ${dialect}`,
      description: '',
      ownerId: null,
    });
    const streamPath = `/api/applets/${applet.id}/events/stream/`;
    const readStart = await t.app.inject({
      method: 'GET',
      url: `/api/applets/${applet.id}/read_events/`,
      headers: bearer(alice.token),
    });
    const start = readStart.json<{ data: { next_cursor: string } }>().data.next_cursor;

    // The slow one: a raw request whose socket is paused as soon as the answer starts.
    let slowBytes = 0;
    let slowResponse: http.IncomingMessage | undefined;
    const slowClosed = new Promise<void>((resolve, reject) => {
      const request = http.request(`${base}${streamPath}?after=${start}`, {
        headers: { ...bearer(bob.token), accept: 'text/event-stream' },
      });
      request.on('error', () => resolve()); // a reset is a close too
      request.on('response', (response) => {
        slowResponse = response;
        if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
        response.on('data', (chunk: Buffer) => (slowBytes += chunk.length));
        response.on('error', () => resolve());
        response.on('close', () => resolve());
        response.pause();
        response.socket.pause();
      });
      request.end();
    });
    const slowOpened = new Promise<void>((resolve) => {
      const poll = () => (slowResponse === undefined ? setImmediate(poll) : resolve());
      poll();
    });
    const fast = open(await streamUrl(alice.token, start, `/api/applets/${applet.id}/`));
    await Promise.all([slowOpened, fast.untilOpen()]);

    const COUNT = 100;
    const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(60_000 / 27)).slice(0, 60_000);
    for (let i = 0; i < COUNT; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/applets/${applet.id}/post_event/`,
        headers: bearer(alice.token),
        payload: { subject: 'big', body: `${i} ${filler}` },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    await fast.untilCount(COUNT);
    fast.close();
    expect(fast.received.map((r) => Number(r.data.body.split(' ')[0]))).toEqual(
      Array.from({ length: COUNT }, (_, i) => i),
    );
    expectOrderedAndLabelled(fast.received);
    expect(fast.errors).toBe(0); // never dropped: it kept reading
    expect(fast.opens).toBe(1);

    // The server said why it closed the slow one…
    expect(t.logs.some((l) => l.includes('dropping a slow event-stream client'))).toBe(true);
    // …and the connection really ends: reading what was left in the socket reaches its end.
    slowResponse!.socket.resume();
    slowResponse!.resume();
    await slowClosed;
    const delivered = COUNT * filler.length;
    expect(slowBytes).toBeLessThan(delivered);
  });
});
