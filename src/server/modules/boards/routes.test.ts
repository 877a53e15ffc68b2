// Boards and messages through the API on SQLite and PostgreSQL: board administration and access
// levels, posting and threads, signatures, pagination under concurrent posting, deletion, ignore
// filtering, and that no XSS payload comes back as markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  createBoard,
  registerCast,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { assertInertHtml } from '../../../test-support/inert-html.js';
import { XSS_PAYLOADS } from '../../../test-support/xss-corpus.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

describe.each(DIALECTS)('boards and messages on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let general: string;
  let members: string;
  let staff: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    general = await makeBoard({ name: 'General', description: 'Anything goes' });
    members = await makeBoard({ name: 'Members', read_access: 'members' });
    staff = await makeBoard({ name: 'Staff', read_access: 'members', post_access: 'moderators' });
  });
  afterAll(() => t.close());

  const makeBoard = (payload: Record<string, unknown>) => createBoard(t, sysop.token, payload);

  const post = (token: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/messages/', headers: bearer(token), payload });

  const messageCount = () => countRows(t, 'messages');

  describe('boards', () => {
    it('are created by sysops with defaults, and by nobody else', async () => {
      const res = await t.app.inject({ url: `/api/boards/${general}/` });
      expect(res.json().data).toMatchObject({
        name: 'General',
        description: 'Anything goes',
        is_realtime: false,
        federation_room_id: null,
        trusted_peers: [],
        message_retention_days: null,
        read_access: 'public',
        post_access: 'members',
        is_archived: false,
        can_post: false,
      });
      const denied = await t.app.inject({
        method: 'POST',
        url: '/api/boards/',
        headers: bearer(alice.token),
        payload: { name: 'Mine' },
      });
      expect(denied.statusCode).toBe(403);
      const anonymous = await t.app.inject({
        method: 'POST',
        url: '/api/boards/',
        payload: { name: 'Mine' },
      });
      expect(anonymous.statusCode).toBe(401);
    });

    it.each([
      [{ name: '' }, 'body.name'],
      [{ name: 'x'.repeat(101) }, 'body.name'],
      [{ name: 'Ok', message_retention_days: 0 }, 'body.message_retention_days'],
      [{ name: 'Ok', read_access: 'everyone' }, 'body.read_access'],
      [{ name: 'Ok', federation_room_id: 'has space' }, 'body.federation_room_id'],
      [{ name: 'Ok', trusted_peers: ['not-a-fingerprint'] }, 'body.trusted_peers.0'],
      [{ name: 'Ok', owner: 'me' }, 'body.owner'],
    ])('refuses %j naming %s', async (payload, field) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/boards/',
        headers: bearer(sysop.token),
        payload,
      });
      expectFieldRefused(res, field);
    });

    it('refuses a taken name or federation room with 409', async () => {
      await makeBoard({ name: 'Chat', is_realtime: true, federation_room_id: 'axon-chat' });
      const name = await t.app.inject({
        method: 'POST',
        url: '/api/boards/',
        headers: bearer(sysop.token),
        payload: { name: 'general' },
      });
      expect(name.statusCode).toBe(409);
      expect(name.json().error.code).toBe('BOARD_NAME_TAKEN');
      const room = await t.app.inject({
        method: 'POST',
        url: '/api/boards/',
        headers: bearer(sysop.token),
        payload: { name: 'Chat 2', federation_room_id: 'axon-chat' },
      });
      expect(room.statusCode).toBe(409);
      expect(room.json().error.code).toBe('ROOM_TAKEN');
    });

    it('show visitors only public boards, and members what their level allows', async () => {
      const visitor = (await t.app.inject({ url: '/api/boards/' }))
        .json()
        .data.items.map((b: { name: string }) => b.name);
      expect(visitor).toContain('General');
      expect(visitor).not.toContain('Members');
      expect((await t.app.inject({ url: `/api/boards/${members}/` })).statusCode).toBe(404);
      expect((await t.app.inject({ url: `/api/boards/${members}/messages/` })).statusCode).toBe(
        404,
      );
      const member = await t.app.inject({ url: '/api/boards/', headers: bearer(alice.token) });
      const boards = member.json().data.items as Array<{ name: string; can_post: boolean }>;
      expect(boards.find((b) => b.name === 'Members')?.can_post).toBe(true);
      expect(boards.find((b) => b.name === 'Staff')?.can_post).toBe(false);
    });

    it('are edited and archived by sysops; archived boards leave the list and take no posts', async () => {
      const board = await makeBoard({ name: 'Old news' });
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/api/boards/${board}/`,
        headers: bearer(sysop.token),
        payload: { description: 'Closed', is_archived: true, message_retention_days: null },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json().data).toMatchObject({
        description: 'Closed',
        is_archived: true,
        message_retention_days: null,
      });
      const list = (await t.app.inject({ url: '/api/boards/' }))
        .json()
        .data.items.map((b: { id: string }) => b.id);
      expect(list).not.toContain(board);
      const all = (await t.app.inject({ url: '/api/boards/?include_archived=true' }))
        .json()
        .data.items.map((b: { id: string }) => b.id);
      expect(all).toContain(board);
      const res = await post(alice.token, {
        board_id: board,
        subject: 'late',
        body: 'too late',
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('BOARD_ARCHIVED');
      const byUser = await t.app.inject({
        method: 'PATCH',
        url: `/api/boards/${board}/`,
        headers: bearer(alice.token),
        payload: { is_archived: false },
      });
      expect(byUser.statusCode).toBe(403);
      const empty = await t.app.inject({
        method: 'PATCH',
        url: `/api/boards/${board}/`,
        headers: bearer(sysop.token),
        payload: {},
      });
      expect(empty.statusCode).toBe(400);
      const unknown = await t.app.inject({
        method: 'PATCH',
        url: '/api/boards/nope/',
        headers: bearer(sysop.token),
        payload: { description: 'x' },
      });
      expect(unknown.statusCode).toBe(404);
    });
  });

  describe('posting', () => {
    it('posts a signed message and a reply in its thread', async () => {
      const root = await post(alice.token, {
        board_id: general,
        subject: 'Hello',
        body: 'First **post**',
      });
      expect(root.statusCode).toBe(201);
      const m = root.json().data;
      expect(m).toMatchObject({
        board_id: general,
        parent_id: null,
        subject: 'Hello',
        body: 'First **post**',
      });
      expect(m.body_html).toBe('<p>First <strong>post</strong></p>');
      expect(m.thread_id).toBe(m.id);
      const alicePubkey = (await t.ctx.accounts.getUser(alice.id)).fingerprint;
      expect(m.author).toEqual({
        fingerprint: alicePubkey,
        nickname: 'alice',
        user_id: alice.id,
        instance: null,
        is_agent: false,
      });

      const reply = await post(bob.token, {
        board_id: general,
        subject: 'Re: Hello',
        body: 'Welcome',
        parent_id: m.id,
      });
      expect(reply.statusCode).toBe(201);
      expect(reply.json().data).toMatchObject({ parent_id: m.id, thread_id: m.id });

      const detail = await t.app.inject({ url: `/api/messages/${reply.json().data.id}/` });
      const data = detail.json().data;
      expect(data.message.signature_valid).toBe(true);
      expect(data.thread.map((x: { id: string }) => x.id)).toEqual([m.id, reply.json().data.id]);
      expect(data.thread.every((x: { signature_valid: boolean }) => x.signature_valid)).toBe(true);
    });

    it('reports a tampered message as not verifying', async () => {
      const res = await post(alice.token, {
        board_id: general,
        subject: 'Signed',
        body: 'original words',
      });
      const id = res.json().data.id;
      await t.ctx.database.db
        .updateTable('messages')
        .set({ body: 'forged words' })
        .where('id', '=', id)
        .execute();
      const detail = (await t.app.inject({ url: `/api/messages/${id}/` })).json().data;
      expect(detail.message.body).toBe('forged words');
      expect(detail.message.signature_valid).toBe(false);
    });

    it.each([
      [{ subject: 's'.repeat(256), body: 'b' }, 400, 'body.subject'],
      [{ subject: '', body: 'b' }, 400, 'body.subject'],
      [{ subject: 's', body: 'b'.repeat(64 * 1024 + 1) }, 400, 'body.body'],
      [{ subject: 's', body: '   ' }, 400, 'body.body'],
      [{ subject: 's', body: 'bell \u0007' }, 400, 'body.body'],
      [{ subject: 's', body: 'b', color: 'red' }, 400, 'body.color'],
      [{ subject: 's', body: 'b', attachments: ['a'.repeat(64)] }, 400, 'body.attachments.0'],
    ])('refuses %j with %i naming %s, writing nothing', async (payload, status, field) => {
      const before = await messageCount();
      const res = await post(alice.token, { board_id: general, ...payload });
      expect(res.statusCode).toBe(status);
      expect(res.json().error.details.fields[0].field).toBe(field);
      expect(await messageCount()).toBe(before);
    });

    it('accepts a body of exactly 64 KiB', async () => {
      const res = await post(alice.token, {
        board_id: general,
        subject: 'big',
        body: 'é'.repeat(32 * 1024),
      });
      expect(res.statusCode).toBe(201);
    });

    it('answers 404 for an unknown board or parent, 400 for a parent on another board, 403 by access level', async () => {
      const before = await messageCount();
      expect(
        (await post(alice.token, { board_id: 'nope', subject: 's', body: 'b' })).statusCode,
      ).toBe(404);
      expect(
        (await post(alice.token, { board_id: general, subject: 's', body: 'b', parent_id: 'nope' }))
          .statusCode,
      ).toBe(404);
      const elsewhere = (
        await post(alice.token, { board_id: members, subject: 's', body: 'b' })
      ).json().data.id;
      const cross = await post(alice.token, {
        board_id: general,
        subject: 's',
        body: 'b',
        parent_id: elsewhere,
      });
      expectFieldRefused(cross, 'body.parent_id');
      const staffPost = await post(alice.token, { board_id: staff, subject: 's', body: 'b' });
      expect(staffPost.statusCode).toBe(403);
      const visitor = await t.app.inject({
        method: 'POST',
        url: '/api/messages/',
        payload: { board_id: general, subject: 's', body: 'b' },
      });
      expect(visitor.statusCode).toBe(401);
      expect(await messageCount()).toBe(before + 1);
    });

    it('refuses posts from accounts without can_post, banned accounts and banned keys', async () => {
      const eve = await registerUser(t.app, 'eve');
      const before = await messageCount();
      await t.ctx.database.db
        .updateTable('users')
        .set({ can_post: false })
        .where('id', '=', eve.id)
        .execute();
      const noPost = await post(eve.token, { board_id: general, subject: 's', body: 'b' });
      expect(noPost.statusCode).toBe(403);
      expect(noPost.json().error.code).toBe('POSTING_DISABLED');

      await t.ctx.database.db
        .updateTable('users')
        .set({ can_post: true, is_banned: true })
        .where('id', '=', eve.id)
        .execute();
      const banned = await post(eve.token, { board_id: general, subject: 's', body: 'b' });
      expect(banned.statusCode).toBe(403);
      expect(banned.json().error.code).toBe('ACCOUNT_BANNED');

      await t.ctx.database.db
        .updateTable('users')
        .set({ is_banned: false })
        .where('id', '=', eve.id)
        .execute();
      const eveKey = (await t.ctx.accounts.getUser(eve.id)).fingerprint;
      const ban = await t.app.inject({
        method: 'POST',
        url: '/api/moderation/banned_pubkeys/',
        headers: bearer(sysop.token),
        payload: { pubkey: eveKey, reason: 'spam key' },
      });
      expect(ban.statusCode).toBe(201);
      const keyBanned = await post(eve.token, { board_id: general, subject: 's', body: 'b' });
      expect(keyBanned.statusCode).toBe(403);
      expect(keyBanned.json().error.code).toBe('PUBKEY_BANNED');
      expect(await messageCount()).toBe(before);
    });
  });

  describe('pages', () => {
    let board: string;
    const subjects: string[] = [];

    beforeAll(async () => {
      board = await makeBoard({ name: 'Paging' });
      for (let i = 0; i < 25; i++) {
        subjects.push(`m${i}`);
        expect(
          (await post(alice.token, { board_id: board, subject: `m${i}`, body: `message ${i}` }))
            .statusCode,
        ).toBe(201);
      }
    });

    async function walk(
      order: 'newest' | 'oldest',
      between?: () => Promise<void>,
    ): Promise<string[]> {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/boards/${board}/messages/?limit=10&order=${order}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await t.app.inject({ url });
        expect(res.statusCode).toBe(200);
        const data: { items: Array<{ subject: string }>; next_cursor: string | null } =
          res.json().data;
        expect(data.items.length).toBeLessThanOrEqual(10);
        seen.push(...data.items.map((i) => i.subject));
        cursor = data.next_cursor;
        await between?.();
      } while (cursor !== null);
      return seen;
    }

    it('pages newest first and oldest first, each message once', async () => {
      expect(await walk('newest')).toEqual([...subjects].reverse());
      expect(await walk('oldest')).toEqual(subjects);
    });

    it('neither skips nor repeats while others post between pages', async () => {
      let n = 0;
      const seen = await walk('newest', async () => {
        await post(bob.token, { board_id: board, subject: `new${n++}`, body: 'interrupting' });
      });
      // Everything that existed when paging began appears exactly once, in order.
      expect(seen.filter((s) => s.startsWith('m'))).toEqual([...subjects].reverse());
      expect(new Set(seen).size).toBe(seen.length);
      const oldestFirst = await walk('oldest', async () => {
        await post(bob.token, { board_id: board, subject: `later${n++}`, body: 'interrupting' });
      });
      expect(oldestFirst.slice(0, 25)).toEqual(subjects);
      expect(new Set(oldestFirst).size).toBe(oldestFirst.length);
    });

    it('lists thread starters with reply counts', async () => {
      const root = (
        await post(alice.token, { board_id: board, subject: 'thread', body: 'root' })
      ).json().data.id;
      for (let i = 0; i < 3; i++)
        await post(bob.token, { board_id: board, subject: 're', body: 'reply', parent_id: root });
      const res = await t.app.inject({
        url: `/api/boards/${board}/messages/?threads=true&limit=5`,
      });
      const items = res.json().data.items as Array<{
        id: string;
        parent_id: string | null;
        reply_count: number;
      }>;
      expect(items.every((m) => m.parent_id === null)).toBe(true);
      expect(items.find((m) => m.id === root)?.reply_count).toBe(3);
    });

    it('serves repeated pages from a cache that drops them the moment the board changes', async () => {
      const cached = await makeBoard({ name: 'Cached' });
      for (let i = 0; i < 4; i++)
        await post(alice.token, { board_id: cached, subject: `c${i}`, body: 'x' });
      const url = `/api/boards/${cached}/messages/?limit=3`;
      const page = async (headers: Record<string, string> = {}) => {
        const res = await t.app.inject({ url, headers });
        return {
          cache: res.headers['x-cache'],
          subjects: res.json().data.items.map((m: { subject: string }) => m.subject),
        };
      };
      const first = await page();
      expect((await page()).cache).toBe('hit');
      expect((await page({ 'cache-control': 'no-cache' })).cache).toBe('miss');

      const fresh = await post(bob.token, { board_id: cached, subject: 'fresh', body: 'news' });
      expect(fresh.statusCode, fresh.body).toBe(201);
      const posted = fresh.json().data;
      const afterPost = await page();
      expect(afterPost).toEqual({
        cache: 'miss',
        subjects: ['fresh', ...first.subjects.slice(0, 2)],
      });

      await t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${posted.id}/`,
        headers: bearer(bob.token),
      });
      expect(await page()).toEqual({ cache: 'miss', subjects: first.subjects });

      const bobKey = (await t.ctx.accounts.getUser(bob.id)).fingerprint;
      await post(bob.token, { board_id: cached, subject: 'by bob', body: 'x' });
      expect((await page()).subjects[0]).toBe('by bob');
      const banned = await t.app.inject({
        method: 'POST',
        url: '/api/moderation/banned_pubkeys/',
        headers: bearer(sysop.token),
        payload: { pubkey: bobKey, reason: 'cache test' },
      });
      expect(banned.statusCode, banned.body).toBe(201);
      expect(await page()).toEqual({ cache: 'miss', subjects: first.subjects });
      await t.app.inject({
        method: 'DELETE',
        url: `/api/moderation/banned_pubkeys/${bobKey}/`,
        headers: bearer(sysop.token),
      });

      // A reader with an ignore list gets their own page, which follows their list.
      const aliceKey = (await t.ctx.accounts.getUser(alice.id)).fingerprint;
      await t.app.inject({
        method: 'POST',
        url: '/api/user/ignored_pubkeys/',
        headers: bearer(sysop.token),
        payload: { pubkey: aliceKey },
      });
      expect((await page(bearer(sysop.token))).subjects).toEqual(['by bob']);
      expect((await page()).subjects[0]).toBe('by bob');
      expect((await page()).subjects).toHaveLength(3);
      await t.app.inject({
        method: 'DELETE',
        url: `/api/user/ignored_pubkeys/${aliceKey}/`,
        headers: bearer(sysop.token),
      });
      expect((await page(bearer(sysop.token))).subjects).toHaveLength(3);
    });

    async function walkThread(
      id: string,
      limit: number,
    ): Promise<{ subjects: string[]; pages: number; largest: number }> {
      const subjects: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      let largest = 0;
      do {
        const url: string = `/api/messages/${id}/?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await t.app.inject({ url });
        expect(res.statusCode).toBe(200);
        const data: {
          message: { id: string };
          thread: Array<{ subject: string }>;
          next_cursor: string | null;
        } = res.json().data;
        expect(data.message.id).toBe(id);
        expect(data.thread.length).toBeLessThanOrEqual(limit);
        subjects.push(...data.thread.map((m) => m.subject));
        // A missing next_cursor (a server that does not page threads) ends the walk too.
        cursor = data.next_cursor ?? null;
        pages++;
        largest = Math.max(largest, res.rawPayload.length);
      } while (cursor !== null);
      return { subjects, pages, largest };
    }

    it('pages a thread oldest first, each message once', async () => {
      const root = (
        await post(alice.token, { board_id: board, subject: 't0', body: 'root' })
      ).json().data.id;
      const expected = ['t0'];
      for (let i = 1; i < 8; i++) {
        expected.push(`t${i}`);
        await post(bob.token, { board_id: board, subject: `t${i}`, body: 'r', parent_id: root });
      }
      expect(await walkThread(root, 3)).toMatchObject({ subjects: expected, pages: 3 });
      expect(await walkThread(root, 100)).toMatchObject({ subjects: expected, pages: 1 });
    });

    it('bounds a thread page in bytes, whatever the limit', async () => {
      // A 64 KiB run of `*` renders to the largest HTML a body can: about 0.4 MiB per message.
      const body = '*'.repeat(64 * 1024);
      const root = (await post(alice.token, { board_id: board, subject: 'h0', body })).json().data
        .id;
      const expected = ['h0'];
      for (let i = 1; i < 6; i++) {
        expected.push(`h${i}`);
        await post(bob.token, { board_id: board, subject: `h${i}`, body, parent_id: root });
      }
      const walked = await walkThread(root, 100);
      expect(walked.subjects).toEqual(expected);
      expect(walked.pages).toBeGreaterThan(1);
      expect(walked.largest).toBeLessThanOrEqual(1.5 * 1024 * 1024);
    });

    it('refuses a malformed thread cursor or limit with 400 naming it', async () => {
      const id = (await post(alice.token, { board_id: board, subject: 'x', body: 'x' })).json().data
        .id;
      for (const [query, field] of [
        ['cursor=garbage', 'query.cursor'],
        ['limit=0', 'querystring.limit'],
        ['limit=101', 'querystring.limit'],
        ['order=newest', 'querystring.order'],
      ]) {
        const res = await t.app.inject({ url: `/api/messages/${id}/?${query}` });
        expect(res.statusCode, query).toBe(400);
        expect(res.json().error.details.fields[0].field).toBe(field);
      }
    });

    it('refuses a malformed cursor, limit or order with 400 naming it', async () => {
      for (const [query, field] of [
        ['cursor=garbage', 'query.cursor'],
        [`cursor=${Buffer.from('["x"]').toString('base64url')}`, 'query.cursor'],
        ['limit=0', 'querystring.limit'],
        ['limit=101', 'querystring.limit'],
        ['order=sideways', 'querystring.order'],
      ]) {
        const res = await t.app.inject({ url: `/api/boards/${board}/messages/?${query}` });
        expect(res.statusCode, query).toBe(400);
        expect(res.json().error.details.fields[0].field).toBe(field);
      }
    });
  });

  describe('deleting', () => {
    it('lets authors delete their own messages and nobody else without moderation rights', async () => {
      const id = (
        await post(alice.token, { board_id: general, subject: 'mine', body: 'to delete' })
      ).json().data.id;
      const other = await t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${id}/`,
        headers: bearer(bob.token),
      });
      expect(other.statusCode).toBe(403);
      expect((await t.app.inject({ url: `/api/messages/${id}/` })).statusCode).toBe(200);
      const own = await t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${id}/`,
        headers: bearer(alice.token),
      });
      expect(own.statusCode).toBe(200);
      expect((await t.app.inject({ url: `/api/messages/${id}/` })).statusCode).toBe(404);
      const again = await t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${id}/`,
        headers: bearer(alice.token),
      });
      expect(again.statusCode).toBe(404);
    });

    const remove = (token: string, id: string, query = '') =>
      t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${id}/${query}`,
        headers: bearer(token),
      });

    it('leaves a tombstone for an opening post with replies, keeping the thread in place', async () => {
      const board = await makeBoard({ name: 'Tombstones' });
      const opener = (
        await post(alice.token, { board_id: board, subject: 'Kept', body: 'quokkaword here' })
      ).json().data.id;
      const reply = (
        await post(bob.token, {
          board_id: board,
          subject: 'Re: Kept',
          body: 'a reply',
          parent_id: opener,
        })
      ).json().data.id;

      const deleted = await remove(alice.token, opener);
      expect(deleted.statusCode, deleted.body).toBe(200);
      expect(deleted.json().data).toEqual({ deleted: opener, tombstone: true });

      const thread = (await t.app.inject({ url: `/api/messages/${reply}/` })).json().data;
      expect(thread.thread.map((m: { id: string }) => m.id)).toEqual([opener, reply]);
      const tomb = thread.thread[0];
      expect(tomb.deleted.by).toBe('author');
      expect(Date.parse(tomb.deleted.at)).toBeGreaterThan(0);
      expect(tomb.body).toBe('');
      expect(tomb.subject).toBe('Kept');
      expect(thread.thread[1].deleted).toBeNull();
      expect(thread.thread[1].signature_valid).toBe(true);

      const page = (
        await t.app.inject({ url: `/api/boards/${board}/messages/?threads=true` })
      ).json().data;
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({
        id: opener,
        reply_count: 1,
        deleted: { by: 'author' },
      });
      const search = (await t.app.inject({ url: '/api/search/?q=quokkaword' })).json().data;
      expect(search.items).toEqual([]);
      // A tombstone is already deleted.
      expect((await remove(alice.token, opener)).statusCode).toBe(404);

      // The last reply going takes the tombstone with it.
      const last = await remove(bob.token, reply);
      expect(last.json().data).toEqual({ deleted: reply, tombstone: false });
      expect((await t.app.inject({ url: `/api/messages/${opener}/` })).statusCode).toBe(404);
    });

    it("marks a moderator's removal of an opening post as such", async () => {
      const board = await makeBoard({ name: 'Moderated tombstones' });
      const opener = (
        await post(alice.token, { board_id: board, subject: 'Rude', body: 'rude words' })
      ).json().data.id;
      await post(bob.token, {
        board_id: board,
        subject: 'Re: Rude',
        body: 'hm',
        parent_id: opener,
      });
      const removed = await remove(sysop.token, opener, '?reason=rude');
      expect(removed.json().data.tombstone).toBe(true);
      const thread = (await t.app.inject({ url: `/api/messages/${opener}/` })).json().data;
      expect(thread.message.deleted.by).toBe('moderator');
      expect(thread.message.body).toBe('');
      expect(thread.thread).toHaveLength(2);
    });
  });

  describe('activity', () => {
    const threadsOf = async (board: string) =>
      (await t.app.inject({ url: `/api/boards/${board}/messages/?threads=true&limit=2` })).json()
        .data;

    it('lists threads by their latest post, or by when they started on a chronological board', async () => {
      const board = await makeBoard({ name: 'Bumps' });
      const say = async (subject: string, parent_id?: string) =>
        (await post(alice.token, { board_id: board, subject, body: 'x', parent_id })).json().data
          .id as string;
      const first = await say('first');
      const second = await say('second');
      const third = await say('third');
      const reply = (
        await post(bob.token, {
          board_id: board,
          subject: 'Re: first',
          body: 'up',
          parent_id: first,
        })
      ).json().data.id;

      const page = await threadsOf(board);
      expect(page.items.map((m: { id: string }) => m.id)).toEqual([first, third]);
      expect(page.items[0].last_post).toMatchObject({ id: reply, nickname: 'bob' });
      expect(page.items[1].last_post.id).toBe(third);
      const next = (
        await t.app.inject({
          url: `/api/boards/${board}/messages/?threads=true&limit=2&cursor=${page.next_cursor}`,
        })
      ).json().data;
      expect(next.items.map((m: { id: string }) => m.id)).toEqual([second]);
      expect(next.next_cursor).toBeNull();

      // Deleting the latest reply puts the thread back where its own latest post is.
      await t.app.inject({
        method: 'DELETE',
        url: `/api/messages/${reply}/`,
        headers: bearer(bob.token),
      });
      expect((await threadsOf(board)).items.map((m: { id: string }) => m.id)).toEqual([
        third,
        second,
      ]);

      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/api/boards/${board}/`,
        headers: bearer(sysop.token),
        payload: { thread_order: 'created' },
      });
      expect(patched.json().data.thread_order).toBe('created');
      await post(bob.token, {
        board_id: board,
        subject: 'Re: first',
        body: 'again',
        parent_id: first,
      });
      expect((await threadsOf(board)).items.map((m: { id: string }) => m.id)).toEqual([
        third,
        second,
      ]);
    });

    it('shows thread and post counts and the latest post on the board list', async () => {
      const board = await makeBoard({ name: 'Counted' });
      const listed = async () =>
        (await t.app.inject({ url: '/api/boards/' }))
          .json()
          .data.items.find((b: { id: string }) => b.id === board).activity;
      expect(await listed()).toEqual({ thread_count: 0, post_count: 0, last_post: null });
      const opener = (
        await post(alice.token, { board_id: board, subject: 'One', body: 'x' })
      ).json().data.id;
      await post(alice.token, { board_id: board, subject: 'Two', body: 'x' });
      const reply = (
        await post(bob.token, { board_id: board, subject: 'Re: One', body: 'y', parent_id: opener })
      ).json().data;
      expect(await listed()).toMatchObject({
        thread_count: 2,
        post_count: 3,
        last_post: { id: reply.id, thread_id: opener, author: { nickname: 'bob' } },
      });
    });
  });

  describe('ignoring', () => {
    it("hides an ignored author's messages from lists and threads until un-ignored", async () => {
      const board = await makeBoard({ name: 'Ignore test' });
      const root = (
        await post(alice.token, { board_id: board, subject: 'from alice', body: 'hi' })
      ).json().data.id;
      await post(bob.token, { board_id: board, subject: 'from bob', body: 'hey', parent_id: root });
      const aliceKey = (await t.ctx.accounts.getUser(alice.id)).fingerprint;
      const subjectsFor = async (token: string) =>
        (await t.app.inject({ url: `/api/boards/${board}/messages/`, headers: bearer(token) }))
          .json()
          .data.items.map((m: { subject: string }) => m.subject);

      await t.app.inject({
        method: 'POST',
        url: '/api/user/ignored_pubkeys/',
        headers: bearer(bob.token),
        payload: { pubkey: aliceKey },
      });
      expect(await subjectsFor(bob.token)).toEqual(['from bob']);
      expect(await subjectsFor(sysop.token)).toEqual(['from bob', 'from alice']);
      const thread = (
        await t.app.inject({ url: `/api/messages/${root}/`, headers: bearer(bob.token) })
      ).json().data.thread;
      expect(thread.map((m: { subject: string }) => m.subject)).toEqual(['from bob']);

      await t.app.inject({
        method: 'DELETE',
        url: `/api/user/ignored_pubkeys/${aliceKey}/`,
        headers: bearer(bob.token),
      });
      expect(await subjectsFor(bob.token)).toEqual(['from bob', 'from alice']);
    });
  });

  describe('user text', () => {
    it(`stores each of ${XSS_PAYLOADS.length} XSS payloads as plain text and renders it inert`, async () => {
      const board = await makeBoard({ name: 'XSS' });
      let accepted = 0;
      for (const payload of XSS_PAYLOADS) {
        const subject = payload.slice(0, 255);
        const res = await post(alice.token, {
          board_id: board,
          subject: subject.trim() === '' ? 'x' : subject,
          body: payload.trim() === '' ? 'x' : payload,
        });
        if (res.statusCode === 400) {
          // Control characters and empty text are refused, naming the field.
          expect(['body.subject', 'body.body']).toContain(res.json().error.details.fields[0].field);
          continue;
        }
        expect(res.statusCode).toBe(201);
        accepted++;
        const read = await t.app.inject({ url: `/api/messages/${res.json().data.id}/` });
        expect(read.headers['content-type']).toContain('application/json');
        const message = read.json().data.message;
        if (payload.trim() !== '') expect(message.body).toBe(payload);
        assertInertHtml(message.body_html);
      }
      expect(accepted).toBeGreaterThan(XSS_PAYLOADS.length * 0.8);
      const nickname = await t.app.inject({
        method: 'PATCH',
        url: '/api/user/profile/',
        headers: bearer(bob.token),
        payload: { nickname: '<img src=x onerror=alert(1)>' },
      });
      expect(nickname.json().data.nickname).toBe('<img src=x onerror=alert(1)>');
    });
  });
});
