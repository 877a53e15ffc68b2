// A shared room's home on its board (federation_home, docs/federation.md "Sharing a board"): one
// of the board's peers or null (this instance), refused otherwise with nothing changed, and
// forgotten when the board stops sharing its room. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  createBoard,
  registerCast,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

const PEER = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe.each(DIALECTS)("a shared room's home on %s", (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let board: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice } = await registerCast(t));
    board = await createBoard(t, sysop.token, {
      name: 'Room',
      is_realtime: true,
      federation_room_id: 'room-1',
      trusted_peers: [PEER],
    });
  });
  afterAll(() => t.close());

  const patch = (token: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/boards/${board}/`,
      headers: bearer(token),
      payload,
    });
  const home = async () =>
    (await t.app.inject({ url: `/api/boards/${board}/` })).json().data.federation_home as unknown;

  it('is this instance (null) by default, and one of the peers when a sysop names it', async () => {
    expect(await home()).toBeNull();
    expect((await patch(sysop.token, { federation_home: PEER })).statusCode).toBe(200);
    expect(await home()).toBe(PEER);
  });

  it('refuses a home outside trusted_peers, or set by a non-sysop, and changes nothing', async () => {
    const outside = await patch(sysop.token, { federation_home: OTHER });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().error.code).toBe('VALIDATION_ERROR');
    const dropped = await patch(sysop.token, { trusted_peers: [OTHER] });
    expect(dropped.statusCode).toBe(400);
    expect((await patch(alice.token, { federation_home: null })).statusCode).toBe(403);
    expect(await home()).toBe(PEER);
  });

  it('is forgotten when the board stops sharing its room', async () => {
    expect((await patch(sysop.token, { federation_room_id: null })).statusCode).toBe(200);
    expect(await home()).toBeNull();
  });
});
