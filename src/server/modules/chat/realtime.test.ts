// The event bus in one process, on SQLite and PostgreSQL: AxonChat and applet events by poll and
// long poll, ordering and no loss with concurrent posters, resume by cursor (also across a
// restart), presence and local times, chat history bounds and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { createContext } from '../../context.js';
import { openDatabase } from '../../db/database.js';
import { runRetention } from '../../services/retention.js';
import { PostedEvent } from '../realtime/events.js';
import {
  type Account,
  bearer,
  countRows,
  createBoard,
  registerCast,
  registerUser,
  sayInChat,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { until } from '../../../test-support/wait.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

interface Event {
  cursor: string;
  id: string;
  subject: string;
  body: string;
  author: { nickname: string; user_id: string | null };
  created_at: string;
  created_at_local: string;
}

describe.each(DIALECTS)('real-time on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
  });
  afterAll(() => t.close());

  const say = (account: Account, text: string) => sayInChat<Event>(t, account.token, text);
  const read = async (query: string, token = alice.token) => {
    const res = await t.app.inject({
      url: `/api/chat/read_events/?${query}`,
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as { events: Event[]; next_cursor: string };
  };

  it('posts chat lines and reads them in order, latest first load then by cursor', async () => {
    const start = (await read('')).next_cursor;
    const a = await say(alice, 'hello **world**');
    const b = await say(bob, 'hi alice');
    expect(Number(b.cursor)).toBeGreaterThan(Number(a.cursor));
    expect(a).toMatchObject({
      subject: 'AxonChat',
      body: 'hello **world**',
      author: { nickname: 'alice', user_id: alice.id },
    });
    const after = await read(`after=${start}`);
    expect(after.events.map((e) => e.body)).toEqual(['hello **world**', 'hi alice']);
    expect(after.next_cursor).toBe(b.cursor);
    const latest = await read('limit=1');
    expect(latest.events.map((e) => e.id)).toEqual([b.id]);
    expect((await read(`after=${b.cursor}`)).events).toEqual([]);
    expect((await read(`after=${b.cursor}`)).next_cursor).toBe(b.cursor);
  });

  it('answers a waiting long poll the moment an event exists', async () => {
    const { next_cursor } = await read('');
    const started = Date.now();
    const parked = t.ctx.realtime.longPolls.parked;
    const waiting = t.app.inject({
      url: `/api/chat/read_events/?after=${next_cursor}&wait=30`,
      headers: bearer(bob.token),
    });
    await until(() => t.ctx.realtime.longPolls.parked === parked + 1);
    await say(alice, 'wake up');
    const res = await waiting;
    expect(res.json().data.events.map((e: Event) => e.body)).toEqual(['wake up']);
    // Far sooner than the 30 s it was allowed to wait: the post woke it.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('answers a parked long poll inside the publish of a handed-over event, except to a reader who ignores its author', async () => {
    const board = await t.ctx.chat.chatBoard();
    const channel = { kind: 'board', boardId: board.id } as const;
    const after = Number((await read('')).next_cursor);
    const [aliceUser, bobUser] = await Promise.all([
      t.ctx.accounts.getUser(alice.id),
      t.ctx.accounts.getUser(bob.id),
    ]);
    const delivered: string[] = [];
    const wait = (reader: typeof aliceUser) =>
      t.ctx.realtime.longPolls.answer({
        channel,
        after,
        readerId: reader.id,
        waitMs: 30_000,
        read: () => t.ctx.chat.read(reader, board, { after, limit: 10 }),
        deliver: (batch) => delivered.push(`${reader.username}:${batch.events[0]!.id}`),
      });
    const parked = t.ctx.realtime.longPolls.parked;
    const alicesRead = wait(aliceUser);
    const bobsRead = wait(bobUser);
    const event = {
      cursor: after + 1,
      id: 'handed-over',
      boardId: board.id,
      subject: 'AxonChat',
      body: 'not in the database',
      author: {
        fingerprint: 'f'.repeat(64),
        nickname: 'x',
        userId: null,
        avatarHash: null,
        isAgent: false,
      },
      createdAt: Date.now(),
    };
    // Published once both reads have parked (before that, a wake-up only makes a read go to the
    // database again, where this event is not): alice's answer must come out of the publish itself.
    await until(() => t.ctx.realtime.longPolls.parked === parked + 2);
    t.ctx.realtime.publish(channel, after + 1, new PostedEvent(event, new Set([bob.id])));
    expect(delivered).toEqual(['alice:handed-over']);
    // Bob, who ignores the author, read the database instead (nothing was committed) and waits on.
    await until(() => t.ctx.realtime.longPolls.parked === parked + 1);
    expect(delivered).toEqual(['alice:handed-over']);
    expect(await alicesRead).toEqual({ events: [event], nextCursor: after + 1 });
    const fromBob = await say(alice, 'bob sees this one');
    expect((await bobsRead).events.map((e) => e.id)).toEqual([fromBob.id]);
    expect(delivered).toEqual(['alice:handed-over', `bob:${fromBob.id}`]);
  });

  it('answers an empty long poll when the wait runs out', async () => {
    const { next_cursor } = await read('');
    const res = await read(`after=${next_cursor}&wait=1`);
    expect(res).toEqual({ events: [], next_cursor });
  });

  it('delivers concurrent posts once each, in cursor order, each poster in their own order', async () => {
    const { next_cursor } = await read('');
    const waiter = read(`after=${next_cursor}&wait=30&limit=100`, sysop.token);
    await Promise.all(
      [alice, bob].map(async (who) => {
        for (let i = 0; i < 15; i++) await say(who, `${who === alice ? 'a' : 'b'}${i}`);
      }),
    );
    expect((await waiter).events.length).toBeGreaterThan(0);
    const seen: Event[] = [];
    let cursor = next_cursor;
    for (let pages = 0; pages < 100 && seen.length < 30; pages++) {
      const page = await read(`after=${cursor}&limit=7`, sysop.token);
      seen.push(...page.events);
      cursor = page.next_cursor;
    }
    const cursors = seen.map((e) => Number(e.cursor));
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    expect(new Set(cursors).size).toBe(30);
    for (const prefix of ['a', 'b']) {
      const mine = seen.filter((e) => e.body.startsWith(prefix)).map((e) => e.body);
      expect(mine).toEqual(Array.from({ length: 15 }, (_, i) => `${prefix}${i}`));
    }
  });

  it('shows who is present, with times in the reader’s time zone', async () => {
    const zone = await t.app.inject({
      method: 'PATCH',
      url: '/api/user/profile/',
      headers: bearer(bob.token),
      payload: { timezone: 'Asia/Kolkata' },
    });
    expect(zone.statusCode, zone.body).toBe(200);
    const event = await say(alice, 'what time is it');
    const [forBob] = (await read(`after=${Number(event.cursor) - 1}`, bob.token)).events;
    const utc = new Date(event.created_at);
    const kolkata = new Date(utc.getTime() + 5.5 * 3600_000)
      .toISOString()
      .replace('T', ' ')
      .slice(0, 19);
    expect(forBob!.created_at_local).toBe(kolkata);
    expect(event.created_at_local).toBe(utc.toISOString().replace('T', ' ').slice(0, 19));

    const res = await t.app.inject({ url: '/api/chat/presence/', headers: bearer(sysop.token) });
    const names = res.json().data.users.map((u: { nickname: string }) => u.nickname);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('writes recorded presence together, so it reaches other processes without a presence read', async () => {
    const carol = await registerUser(t.app, 'carol');
    await read('limit=1', carol.token);
    const board = await t.ctx.chat.chatBoard();
    const stored = () =>
      t.ctx.database.db
        .selectFrom('room_presence')
        .select('last_seen')
        .where('board_id', '=', board.id)
        .where('user_id', '=', carol.id)
        .executeTakeFirst();
    await t.ctx.realtime.presence.flush();
    const row = await stored();
    expect(row?.last_seen).toBeGreaterThan(Date.now() - 60_000);
  });

  it('takes a user who leaves off the list at once; reading again brings them back', async () => {
    const dave = await registerUser(t.app, 'dave');
    const present = async () => {
      const res = await t.app.inject({ url: '/api/chat/presence/', headers: bearer(alice.token) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.users.map((u: { nickname: string }) => u.nickname) as string[];
    };
    const leave = (token?: string) =>
      t.app.inject({
        method: 'DELETE',
        url: '/api/chat/presence/',
        headers: token === undefined ? {} : bearer(token),
      });
    await read('limit=1');
    await read('limit=1', dave.token);
    expect(await present()).toEqual(expect.arrayContaining(['alice', 'dave']));

    expect((await leave()).statusCode).toBe(401);
    expect(await present()).toContain('dave');
    const left = await leave(dave.token);
    expect(left.statusCode, left.body).toBe(200);
    // Only dave left.
    expect(await present()).not.toContain('dave');
    expect(await present()).toContain('alice');

    await read('limit=1', dave.token);
    expect(await present()).toContain('dave');
  });

  it('keeps the chat board to members and refuses bad input, writing nothing', async () => {
    const count = () => countRows(t, 'messages');
    const before = await count();
    expect((await t.app.inject({ url: '/api/chat/read_events/' })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/chat/post/', payload: { text: 'x' } }))
        .statusCode,
    ).toBe(401);
    for (const [payload, field] of [
      [{ text: 'x'.repeat(2001) }, 'body.text'],
      [{ text: '   ' }, 'body.text'],
      [{ text: 'bell\u0007' }, 'body.text'],
      [{ text: 'x', extra: 1 }, 'body.extra'],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/chat/post/',
        headers: bearer(alice.token),
        payload,
      });
      expectFieldRefused(res, field);
    }
    for (const [query, field] of [
      ['wait=31', 'querystring.wait'],
      ['wait=-1', 'querystring.wait'],
      ['after=abc', 'querystring.after'],
      ['after=1.5', 'querystring.after'],
      ['limit=101', 'querystring.limit'],
    ]) {
      const res = await t.app.inject({
        url: `/api/chat/read_events/?${query}`,
        headers: bearer(alice.token),
      });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.details.fields[0].field).toBe(field);
    }
    await t.ctx.database.db
      .updateTable('users')
      .set({ is_banned: true })
      .where('id', '=', bob.id)
      .execute();
    const banned = await t.app.inject({
      method: 'POST',
      url: '/api/chat/post/',
      headers: bearer(bob.token),
      payload: { text: 'x' },
    });
    expect(banned.statusCode).toBe(403);
    await t.ctx.database.db
      .updateTable('users')
      .set({ is_banned: false })
      .where('id', '=', bob.id)
      .execute();
    expect(await count()).toBe(before);
  });

  it('runs applet event buses: sysops register applets, members post and read events', async () => {
    const denied = await t.app.inject({
      method: 'POST',
      url: '/api/applets/',
      headers: bearer(alice.token),
      payload: { name: 'Chess' },
    });
    expect(denied.statusCode).toBe(403);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/applets/',
      headers: bearer(sysop.token),
      payload: { name: 'Chess' },
    });
    expect(created.statusCode).toBe(201);
    const applet = created.json().data;
    const post = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${applet.id}/post_event/`,
      headers: bearer(alice.token),
      payload: { subject: 'move', body: '{"from":"e2","to":"e4"}' },
    });
    expect(post.statusCode).toBe(201);
    const res = await t.app.inject({
      url: `/api/applets/${applet.id}/read_events/?after=0`,
      headers: bearer(bob.token),
    });
    expect(res.json().data.events.map((e: Event) => [e.subject, e.body])).toEqual([
      ['move', '{"from":"e2","to":"e4"}'],
    ]);
    // The event board is a bus, not a board people browse, and its events stay out of search.
    const boards = (await t.app.inject({ url: '/api/boards/', headers: bearer(bob.token) })).json()
      .data.items;
    expect(boards.map((b: { id: string }) => b.id)).not.toContain(applet.event_board_id);
    expect(
      (await t.app.inject({ url: `/api/applets/nope/read_events/`, headers: bearer(bob.token) }))
        .statusCode,
    ).toBe(404);
    const longSubject = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${applet.id}/post_event/`,
      headers: bearer(alice.token),
      payload: { subject: 's'.repeat(101), body: 'x' },
    });
    expectFieldRefused(longSubject, 'body.subject');
  });

  it('serves realtime boards by id and refuses others', async () => {
    const id = await createBoard(t, sysop.token, { name: 'Lobby', is_realtime: true });
    const plain = await createBoard(t, sysop.token, { name: 'Plain' });
    const posted = await t.app.inject({
      method: 'POST',
      url: `/api/boards/${id}/post_event/`,
      headers: bearer(alice.token),
      payload: { subject: 'hi', body: 'lobby line' },
    });
    expect(posted.statusCode).toBe(201);
    const events = await t.app.inject({
      url: `/api/boards/${id}/read_events/?after=0`,
      headers: bearer(alice.token),
    });
    expect(events.json().data.events.map((e: Event) => e.body)).toEqual(['lobby line']);
    const notRealtime = await t.app.inject({
      url: `/api/boards/${plain}/read_events/`,
      headers: bearer(alice.token),
    });
    expect(notRealtime.statusCode).toBe(404);
  });

  it('bounds chat history by count as well as by age', async () => {
    const chat = await t.ctx.chat.chatBoard();
    const before = (await read('limit=100', sysop.token)).events.length;
    expect(before).toBeGreaterThan(5);
    await runRetention(t.ctx.database, Date.now(), { realtimeHistoryMax: 5 });
    const left = (await read('limit=100', sysop.token)).events;
    expect(left).toHaveLength(5);
    // The newest five remain, consecutive up to the board's last event number.
    const last = (await t.ctx.boards.find(chat.id))!;
    expect(left.map((e) => Number(e.cursor))).toEqual(
      [0, 1, 2, 3, 4].map((i) => last.eventSeq - 4 + i),
    );
  });

  it('resumes by cursor across a restart: nothing missed, nothing repeated', async () => {
    const saved = (await read('')).next_cursor;
    const before = await say(alice, 'before restart');
    // A second app on the same database stands in for the restarted server.
    const database = openDatabase(t.db.config);
    const ctx = createContext(t.ctx.config, database, t.ctx.keys, t.ctx.identity);
    const app = await buildApp(ctx, { logger: false });
    try {
      const after = await app.inject({
        method: 'POST',
        url: '/api/chat/post/',
        headers: bearer(bob.token),
        payload: { text: 'after restart' },
      });
      expect(Number(after.json().data.cursor)).toBeGreaterThan(Number(before.cursor));
      const res = await app.inject({
        url: `/api/chat/read_events/?after=${saved}`,
        headers: bearer(alice.token),
      });
      expect(res.json().data.events.map((e: Event) => e.body)).toEqual([
        'before restart',
        'after restart',
      ]);
    } finally {
      await app.close();
      await database.close();
    }
  });
});
