// Shared room state on SQLite and PostgreSQL: compare-and-set, long polls for a newer version,
// and access control — each room belongs to a board (or an applet's event board), is read by the
// board's read rule and written by its post rule (key bans included), and a board's rooms are
// bounded in number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  banKeyOf,
  bearer,
  createBoard,
  registerCast,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { channelName } from '../realtime/channels.js';
import { MAX_ROOMS_PER_BOARD } from './room-state.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

describe.each(DIALECTS)('shared room state on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let members: string;
  let open: string;
  let staff: string;
  let readOnly: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    const board = (payload: Record<string, unknown>) => createBoard(t, sysop.token, payload);
    members = await board({ name: 'Games', read_access: 'members', post_access: 'members' });
    open = await board({ name: 'Lobby', read_access: 'public', post_access: 'members' });
    staff = await board({ name: 'Staff', read_access: 'moderators', post_access: 'moderators' });
    readOnly = await board({ name: 'News', read_access: 'members', post_access: 'sysops' });
  });
  afterAll(() => t.close());

  const url = (board: string, room: string) => `/api/boards/${board}/rooms/${room}/shared_state/`;
  const state = (room: string, token: string | null = alice.token, board = members) =>
    t.app.inject({ url: url(board, room), headers: token === null ? {} : bearer(token) });
  const write = (room: string, payload: object, token = alice.token, board = members) =>
    t.app.inject({ method: 'POST', url: url(board, room), headers: bearer(token), payload });
  const stored = async () =>
    (await t.ctx.database.db.selectFrom('room_state').select('room_id').execute()).length;

  it('starts at version 0 and moves by compare-and-set', async () => {
    expect((await state('board-1')).json().data).toMatchObject({
      room_id: 'board-1',
      version: 0,
      state: null,
    });
    const first = await write('board-1', { version: 0, state: { turn: 'white' } });
    expect(first.statusCode).toBe(200);
    expect(first.json().data).toMatchObject({
      version: 1,
      state: { turn: 'white' },
      updated_by: 'alice',
    });
    const stale = await write('board-1', { version: 0, state: { turn: 'black' } }, bob.token);
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { current: { version: 1, state: { turn: 'white' } } },
    });
    const second = await write('board-1', { version: 1, state: { turn: 'black' } }, bob.token);
    expect(second.json().data.version).toBe(2);
  });

  it('lets exactly one of several simultaneous writers win', async () => {
    await write('race', { version: 0, state: 0 });
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => write('race', { version: 1, state: n })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409]);
    const final = (await state('race')).json().data;
    expect(final.version).toBe(2);
    expect(final.state).toBe(results.find((r) => r.statusCode === 200)!.json().data.state);
  });

  it('wakes a reader waiting for a newer version', async () => {
    await write('waiting', { version: 0, state: 'a' });
    const waiting = t.app.inject({
      url: `${url(members, 'waiting')}?after_version=1&wait=30`,
      headers: bearer(bob.token),
    });
    // Written once the reader is parked on the room's channel.
    const channel = channelName({ kind: 'room', roomKey: `${members}/waiting` });
    while (!t.ctx.hub.hasListeners(channel)) await new Promise((r) => setImmediate(r));
    await write('waiting', { version: 1, state: 'b' });
    expect((await waiting).json().data).toMatchObject({ version: 2, state: 'b' });
  });

  it('keeps rooms of different boards apart', async () => {
    await write('shared-name', { version: 0, state: 'games' });
    await write('shared-name', { version: 0, state: 'lobby' }, alice.token, open);
    expect((await state('shared-name')).json().data.state).toBe('games');
    expect((await state('shared-name', alice.token, open)).json().data.state).toBe('lobby');
  });

  it("reads by the board's read rule and writes by its post rule", async () => {
    const before = await stored();
    // Visitors read a public board's rooms, and no members-only board's; they never write.
    expect((await state('shared-name', null, open)).json().data.state).toBe('lobby');
    expect((await state('board-1', null)).statusCode).toBe(404);
    const anonymous = await t.app.inject({
      method: 'POST',
      url: url(open, 'x'),
      payload: { version: 0, state: 1 },
    });
    expect(anonymous.statusCode).toBe(401);
    // A board the member may not read hides its rooms; one they may only read refuses writes.
    expect((await state('x', alice.token, staff)).statusCode).toBe(404);
    expect((await write('x', { version: 0, state: 1 }, alice.token, staff)).statusCode).toBe(404);
    const readOnlyWrite = await write('x', { version: 0, state: 1 }, alice.token, readOnly);
    expect(readOnlyWrite.statusCode).toBe(403);
    expect((await state('x', alice.token, readOnly)).json().data.version).toBe(0);
    expect((await write('x', { version: 0, state: 1 }, sysop.token, staff)).statusCode).toBe(200);
    expect(
      (await t.app.inject({ url: url('nope', 'x'), headers: bearer(alice.token) })).statusCode,
    ).toBe(404);
    expect(await stored()).toBe(before + 1);
  });

  it('refuses writes by a banned key, and changes nothing', async () => {
    const carol = await registerUser(t.app);
    await banKeyOf(t, carol.id, 'spam');
    const res = await write('board-1', { version: 2, state: 'hijacked' }, carol.token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PUBKEY_BANNED');
    expect((await state('board-1')).json().data).toMatchObject({
      version: 2,
      state: { turn: 'black' },
    });
  });

  it('serves the rooms of an applet by its event board, members only', async () => {
    const applet = await t.ctx.applets.create({ name: 'Chess', description: '', ownerId: null });
    const path = `/api/applets/${applet.id}/rooms/game-1/shared_state/`;
    const written = await t.app.inject({
      method: 'POST',
      url: path,
      headers: bearer(bob.token),
      payload: { version: 0, state: { fen: 'start' } },
    });
    expect(written.statusCode, written.body).toBe(200);
    expect(
      (await t.app.inject({ url: path, headers: bearer(alice.token) })).json().data.state,
    ).toEqual({
      fen: 'start',
    });
    expect((await t.app.inject({ url: path })).statusCode).toBe(404);
    expect(
      (
        await t.app.inject({
          url: '/api/applets/nope/rooms/x/shared_state/',
          headers: bearer(bob.token),
        })
      ).statusCode,
    ).toBe(404);
  });

  it('holds at most MAX_ROOMS_PER_BOARD rooms per board; existing rooms stay writable', async () => {
    const rows = Array.from({ length: MAX_ROOMS_PER_BOARD }, (_, i) => ({
      room_id: `${open}/filler-${i}`,
      version: 1,
      state: '0',
      updated_by: 'test',
      updated_at: Date.now(),
    }));
    // Rooms written earlier on this board already count; top it up to the bound.
    for (let i = 0; i < rows.length; i += 200)
      await t.ctx.database.db
        .insertInto('room_state')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) => oc.column('room_id').doNothing())
        .execute();
    const before = await stored();
    const full = await write('one-more', { version: 0, state: 1 }, alice.token, open);
    expect(full.statusCode).toBe(409);
    expect(full.json().error.code).toBe('TOO_MANY_ROOMS');
    expect(await stored()).toBe(before);
    const existing = await write('filler-7', { version: 1, state: 2 }, alice.token, open);
    expect(existing.statusCode, existing.body).toBe(200);
    // Other boards are not affected.
    expect((await write('elsewhere', { version: 0, state: 1 })).statusCode).toBe(200);
  });

  it('refuses oversized state, bad room ids and negative versions', async () => {
    const big = await write('big', { version: 0, state: 'x'.repeat(64 * 1024) });
    expectFieldRefused(big, 'body.state');
    expect((await state('big')).json().data.version).toBe(0);
    const badId = await state('has space');
    expectFieldRefused(badId, 'params.room_id');
    const negative = await write('x', { version: -1, state: 1 });
    expect(negative.statusCode).toBe(400);
  });
});
