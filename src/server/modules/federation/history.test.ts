// A board's history older than its sharing, on SQLite and PostgreSQL: sharing the board puts its
// last `depth` local messages in the federation log, oldest first, each byte-exact as its author
// signed it and filed under the room; running again (or saving the board again) adds nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyObject, type SignedObject } from '../../../crypto/signing.js';
import {
  bearer,
  createBoard,
  postMessage,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardHistory } from './history.js';

describe.each(DIALECTS)('board history backfill on %s', (dialect) => {
  let t: TestApp;
  let sysop: string;
  let alice: { token: string; pubkey: string };

  beforeAll(async () => {
    // A depth of 3: the instance's own service backfills at most 3 messages per board.
    t = await startTestApp(dialect, { AXON_FEDERATION_BACKFILL: '3' });
    sysop = (await registerUser(t.app, 'root')).token;
    await promote(t, 'root', 'sysop');
    const account = await registerUser(t.app, 'alice');
    const row = await t.ctx.database.db
      .selectFrom('users')
      .select('pubkey')
      .where('username_lower', '=', 'alice')
      .executeTakeFirstOrThrow();
    alice = { token: account.token, pubkey: row.pubkey };
  });
  afterAll(() => t?.close());

  const logged = () =>
    t.ctx.database.db
      .selectFrom('federation_log')
      .select(['object_id', 'room_id', 'object', 'received_from'])
      .orderBy('seq')
      .execute();

  it('logs the last `depth` local messages once, in order, as signed, under the room', async () => {
    const board = await createBoard(t, sysop, { name: 'Old' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await postMessage(t, alice.token, { board_id: board, subject: `m${i}`, body: 'x' }));
    }
    expect(await logged()).toEqual([]);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/boards/${board}/`,
      headers: bearer(sysop),
      payload: { federation_room_id: 'old-room' },
    });
    expect(res.statusCode).toBe(200);
    await new BoardHistory(t.ctx.database, t.ctx.federationLog, 3).run();
    const entries = await logged();
    expect(entries.map((e) => e.object_id)).toEqual(ids.slice(2));
    for (const e of entries) {
      const object = JSON.parse(e.object) as SignedObject;
      expect(e.room_id).toBe('old-room');
      expect(e.received_from).toBeNull();
      // Signed for the board's local id, before it had a room: the room travels beside it.
      expect(object.board).toBe(board);
      expect(verifyObject(object, alice.pubkey)).toBe(true);
    }
    await new BoardHistory(t.ctx.database, t.ctx.federationLog, 3).run();
    await t.app.inject({
      method: 'PATCH',
      url: `/api/boards/${board}/`,
      headers: bearer(sysop),
      payload: { description: 'again' },
    });
    expect((await logged()).map((e) => e.object_id)).toEqual(ids.slice(2));
  });

  it('logs an edited message as first posted, then the edit it shows, each as signed', async () => {
    const board = await createBoard(t, sysop, { name: 'Edited history' });
    const id = await postMessage(t, alice.token, { board_id: board, subject: 's', body: 'before' });
    const edited = await t.app.inject({
      method: 'PATCH',
      url: `/api/messages/${id}/`,
      headers: bearer(alice.token),
      payload: { body: 'after' },
    });
    expect(edited.statusCode).toBe(200);
    await t.app.inject({
      method: 'PATCH',
      url: `/api/boards/${board}/`,
      headers: bearer(sysop),
      payload: { federation_room_id: 'edited-room' },
    });
    await new BoardHistory(t.ctx.database, t.ctx.federationLog, 3).run();
    const objects = (await logged())
      .filter((e) => e.room_id === 'edited-room')
      .map((e) => JSON.parse(e.object) as SignedObject);
    expect(objects.map((o) => [o.type, o.body])).toEqual([
      ['message', 'before'],
      ['edit', 'after'],
    ]);
    for (const object of objects) expect(verifyObject(object, alice.pubkey)).toBe(true);
  });
});
