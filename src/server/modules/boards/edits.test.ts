// Editing messages through the API on SQLite and PostgreSQL: the author's signed new versions,
// the "edited" mark, the history for the author and moderators only, search on the latest
// version, refusals that change nothing, and the edit object a shared board logs for its peers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyObject } from '../../../crypto/signing.js';
import {
  type Account,
  bearer,
  countRows,
  createBoard,
  postMessage,
  promote,
  registerCast,
  registerUsers,
  sayInChat,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

describe.each(DIALECTS)('editing messages on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let mod: Account;
  let general: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    [mod] = await registerUsers(t, ['mod']);
    await promote(t, 'mod', 'moderator');
    general = await createBoard(t, sysop.token, { name: 'General' });
  });
  afterAll(() => t.close());

  const edit = (token: string, id: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/messages/${id}/`,
      headers: bearer(token),
      payload,
    });
  const versions = (token: string | undefined, id: string, query = '') =>
    t.app.inject({
      url: `/api/messages/${id}/versions/${query}`,
      headers: token === undefined ? {} : bearer(token),
    });
  const read = async (id: string) =>
    (await t.app.inject({ url: `/api/messages/${id}/` })).json().data.message;
  const searchIds = async (q: string) =>
    (await t.app.inject({ url: `/api/search/?q=${q}` }))
      .json()
      .data.items.map((hit: { message: { id: string } }) => hit.message.id);

  it('lets the author sign a new version: readers see the latest, marked edited, and it verifies', async () => {
    const id = await postMessage(t, alice.token, {
      board_id: general,
      subject: 'Sunset at the harbour',
      body: 'The ferry leaves at *six*.',
    });
    expect((await read(id)).edited_at).toBeNull();
    const before = Date.now();
    const res = await edit(alice.token, id, { body: 'The ferry leaves at **seven**.' });
    expect(res.statusCode).toBe(200);
    const answer = res.json().data;
    expect(answer).toMatchObject({
      id,
      subject: 'Sunset at the harbour',
      body: 'The ferry leaves at **seven**.',
      body_html: '<p>The ferry leaves at <strong>seven</strong>.</p>',
    });
    expect(Date.parse(answer.edited_at)).toBeGreaterThanOrEqual(before);
    const shown = await read(id);
    expect(shown).toMatchObject({
      body: 'The ferry leaves at **seven**.',
      edited_at: answer.edited_at,
      signature_valid: true,
    });
    const page = (await t.app.inject({ url: `/api/boards/${general}/messages/` })).json().data;
    expect(page.items.find((m: { id: string }) => m.id === id)).toMatchObject({
      body: 'The ferry leaves at **seven**.',
      edited_at: answer.edited_at,
    });
  });

  it('changes the subject when given, and search finds the latest version only', async () => {
    const id = await postMessage(t, alice.token, {
      board_id: general,
      subject: 'Walrus sighting',
      body: 'A walrus on the pier this morning.',
    });
    expect(await searchIds('walrus')).toContain(id);
    const res = await edit(alice.token, id, {
      subject: 'Seal sighting',
      body: 'A seal on the pier, not a big one after all.',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.subject).toBe('Seal sighting');
    expect(await searchIds('walrus')).not.toContain(id);
    expect(await searchIds('seal')).toContain(id);
  });

  it('keeps every version for the author and moderators, each with its signature checked', async () => {
    const id = await postMessage(t, alice.token, {
      board_id: general,
      subject: 'Draft',
      body: 'first',
    });
    expect((await edit(alice.token, id, { body: 'second' })).statusCode).toBe(200);
    expect((await edit(alice.token, id, { subject: 'Final', body: 'third' })).statusCode).toBe(200);
    for (const token of [alice.token, mod.token, sysop.token]) {
      const res = await versions(token, id);
      expect(res.statusCode).toBe(200);
      expect(
        res
          .json()
          .data.items.map((v: Record<string, unknown>) => [
            v.version,
            v.subject,
            v.body,
            v.signature_valid,
            v.current,
          ]),
      ).toEqual([
        [1, 'Draft', 'first', true, false],
        [2, 'Draft', 'second', true, false],
        [3, 'Final', 'third', true, true],
      ]);
    }
    // A page at a time, by cursor.
    const first = (await versions(alice.token, id, '?limit=2')).json().data;
    expect(first.items.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const rest = (await versions(alice.token, id, `?limit=2&cursor=${first.next_cursor}`)).json()
      .data;
    expect(rest).toEqual({
      items: [expect.objectContaining({ version: 3 })],
      next_cursor: null,
    });
  });

  it('shows others only the latest: the history is refused to them', async () => {
    const id = await postMessage(t, alice.token, { board_id: general, subject: 'S', body: 'one' });
    await edit(alice.token, id, { body: 'two' });
    const other = await versions(bob.token, id);
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('FORBIDDEN');
    expect((await versions(undefined, id)).statusCode).toBe(401);
  });

  it("refuses an edit of someone else's message, moderators' too, and changes nothing", async () => {
    const id = await postMessage(t, alice.token, { board_id: general, subject: 'S', body: 'mine' });
    const rows = await countRows(t, 'message_versions');
    for (const token of [bob.token, mod.token, sysop.token]) {
      const res = await edit(token, id, { body: 'not yours' });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('NOT_MESSAGE_AUTHOR');
    }
    expect((await read(id)).body).toBe('mine');
    expect(await countRows(t, 'message_versions')).toBe(rows);
    const anonymous = await t.app.inject({
      method: 'PATCH',
      url: `/api/messages/${id}/`,
      payload: { body: 'x' },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refuses an edit of a tombstone, and its history goes with its text', async () => {
    const id = await postMessage(t, alice.token, {
      board_id: general,
      subject: 'Opening',
      body: 'v1',
    });
    await edit(alice.token, id, { body: 'v2' });
    await postMessage(t, bob.token, { board_id: general, parent_id: id, subject: 'Re', body: 'r' });
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/`,
      headers: bearer(alice.token),
    });
    expect(deleted.json().data.tombstone).toBe(true);
    const res = await edit(alice.token, id, { body: 'back again' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('MESSAGE_DELETED');
    expect((await read(id)).body).toBe('');
    expect((await versions(alice.token, id)).json().error.code).toBe('MESSAGE_DELETED');
    const kept = await t.ctx.database.db
      .selectFrom('message_versions')
      .select('version')
      .where('message_id', '=', id)
      .execute();
    expect(kept).toEqual([]);
  });

  it.each([
    ['an empty body', { body: '' }, 'body.body'],
    ['a blank body', { body: '   ' }, 'body.body'],
    ['a body over 64 KiB', { body: 'x'.repeat(64 * 1024 + 1) }, 'body.body'],
    ['an empty subject', { subject: '', body: 'x' }, 'body.subject'],
    ['a subject over 255', { subject: 'x'.repeat(256), body: 'x' }, 'body.subject'],
    ['no body', { subject: 'ok' }, 'body.body'],
    ['a field it does not take', { body: 'x', board_id: 'elsewhere' }, 'body.board_id'],
  ])('refuses %s naming %s, changing nothing', async (_case, payload, field) => {
    const id = await postMessage(t, alice.token, { board_id: general, subject: 'S', body: 'kept' });
    const res = await edit(alice.token, id, payload);
    expectFieldRefused(res, field);
    expect((await read(id)).body).toBe('kept');
  });

  it('stores nothing for an edit that changes nothing, and answers 404 for an unknown message', async () => {
    const id = await postMessage(t, alice.token, { board_id: general, subject: 'S', body: 'same' });
    const rows = await countRows(t, 'message_versions');
    const res = await edit(alice.token, id, { subject: 'S', body: 'same' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.edited_at).toBeNull();
    expect(await countRows(t, 'message_versions')).toBe(rows);
    const unknown = await edit(alice.token, '0190f4a1-0000-7000-8000-000000000000', { body: 'x' });
    expect(unknown.statusCode).toBe(404);
  });

  it('refuses to edit a chat line', async () => {
    await createBoard(t, sysop.token, { name: 'AxonChat', is_realtime: true });
    const line = await sayInChat<{ id: string }>(t, alice.token, 'hello room');
    const res = await edit(alice.token, line.id, { body: 'changed' });
    expect(res.statusCode).toBe(403);
  });

  it("logs an edit on a shared board as an object signed by the author's key", async () => {
    const shared = await createBoard(t, sysop.token, {
      name: 'Shared',
      federation_room_id: 'shared-edits',
    });
    const id = await postMessage(t, alice.token, { board_id: shared, subject: 'S', body: 'old' });
    expect((await edit(alice.token, id, { body: 'new words' })).statusCode).toBe(200);
    const entry = await t.ctx.database.db
      .selectFrom('federation_log')
      .select(['object', 'room_id'])
      .where('type', '=', 'edit')
      .executeTakeFirstOrThrow();
    const object = JSON.parse(entry.object) as Record<string, unknown> & {
      author: { pubkey: string };
    };
    expect(entry.room_id).toBe('shared-edits');
    expect(object).toMatchObject({
      type: 'edit',
      object_id: id,
      subject: 'S',
      body: 'new words',
      author: { nickname: 'alice' },
    });
    const { pubkey } = await t.ctx.database.db
      .selectFrom('users')
      .select('pubkey')
      .where('id', '=', alice.id)
      .executeTakeFirstOrThrow();
    expect(object.author.pubkey).toBe(pubkey);
    expect(verifyObject(object as never, pubkey)).toBe(true);
    expect(verifyObject({ ...object, body: 'forged' } as never, pubkey)).toBe(false);
  });
});
