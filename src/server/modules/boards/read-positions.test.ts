// Reading a forum on SQLite and PostgreSQL: numbered thread pages (and the page that holds a
// post), cursors still walking a thread, and each signed-in reader's read positions giving unread
// counts on threads and boards and the first unread post of a thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  createBoard,
  postMessage,
  registerCast,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

interface ThreadAnswer {
  message: { id: string };
  thread: Array<{ id: string }>;
  next_cursor: string | null;
  page: number | null;
  page_count: number;
  post_count: number;
  message_page: number;
  first_unread: { id: string; page: number } | null;
}

describe.each(DIALECTS)('reading threads on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let board: string;
  let starter: string;
  /** The thread's posts in order: the opening post, then 11 replies. */
  const posts: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    board = await createBoard(t, sysop.token, { name: 'Reading' });
    starter = await postMessage(t, alice.token, { board_id: board, subject: 'Long', body: 'one' });
    posts.push(starter);
    for (let i = 2; i <= 12; i++) {
      posts.push(
        await postMessage(t, i % 2 === 0 ? bob.token : alice.token, {
          board_id: board,
          parent_id: starter,
          subject: 'Re: Long',
          body: `post ${i}`,
        }),
      );
    }
  });
  afterAll(() => t.close());

  const get = async <T>(url: string, token?: string): Promise<T> => {
    const res = await t.app.inject({ url, headers: token === undefined ? {} : bearer(token) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as T;
  };
  const thread = (query: string, id = starter, token?: string) =>
    get<ThreadAnswer>(`/api/messages/${id}/?${query}`, token);
  const markRead = async (id: string, token: string) => {
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/messages/${id}/read/`,
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as { thread_id: string; unread_count: number };
  };

  it('numbers the pages of a thread and reads any of them', async () => {
    const first = await thread('limit=5');
    expect(first.thread.map((m) => m.id)).toEqual(posts.slice(0, 5));
    expect([first.page, first.page_count, first.post_count]).toEqual([1, 3, 12]);
    const second = await thread('limit=5&page=2');
    expect(second.thread.map((m) => m.id)).toEqual(posts.slice(5, 10));
    const last = await thread('limit=5&page=3');
    expect(last.thread.map((m) => m.id)).toEqual(posts.slice(10));
    expect(last.next_cursor).toBeNull();
    // A page past the last (posts were deleted since the link was made) reads the last.
    expect((await thread('limit=5&page=9')).page).toBe(3);
  });

  it("numbers the pages of a board's thread list", async () => {
    const extra: string[] = [];
    const lists = await createBoard(t, sysop.token, { name: 'Lists' });
    for (let i = 0; i < 5; i++)
      extra.push(await postMessage(t, bob.token, { board_id: lists, subject: `T${i}`, body: 'x' }));
    const page = (n: number) =>
      get<{ items: Array<{ id: string }>; page_count: number }>(
        `/api/boards/${lists}/messages/?threads=true&limit=2&page=${n}`,
      );
    expect((await page(1)).items.map((m) => m.id)).toEqual([extra[4], extra[3]]);
    const last = await page(3);
    expect(last.items.map((m) => m.id)).toEqual([extra[0]]);
    expect(last.page_count).toBe(3);
    const res = await t.app.inject({
      url: `/api/boards/${lists}/messages/?page=2&cursor=${(await page(1)).items[0]!.id}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.fields[0].field).toBe('query.page');
  });

  it('opens the page that holds a post', async () => {
    const answer = await thread('limit=5&page=message', posts[7]);
    expect(answer.message.id).toBe(posts[7]);
    expect(answer.page).toBe(2);
    expect(answer.message_page).toBe(2);
    expect(answer.thread.map((m) => m.id)).toContain(posts[7]);
    // Without a page the first page comes, as before, and says where the post is.
    const plain = await thread('limit=5', posts[11]);
    expect(plain.page).toBe(1);
    expect(plain.message_page).toBe(3);
  });

  it('still walks a thread by cursor, and refuses a page with a cursor', async () => {
    const first = await thread('limit=4');
    const next = await thread(`limit=4&cursor=${first.next_cursor}`);
    expect(next.thread.map((m) => m.id)).toEqual(posts.slice(4, 8));
    expect(next.page).toBeNull();
    for (const [query, field] of [
      [`page=2&cursor=${first.next_cursor}`, 'query.page'],
      ['page=0', 'querystring.page'],
      ['page=last', 'querystring.page'],
    ]) {
      const res = await t.app.inject({ url: `/api/messages/${starter}/?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.details.fields[0].field).toBe(field);
    }
  });

  it('counts unread posts per reader and moves a read position only forward', async () => {
    const unread = async (token: string) =>
      (
        await get<{
          items: Array<{ thread_id: string; unread_count: number; first_unread_id: string }>;
        }>(`/api/read-positions/?threads=${starter},no-such-thread`, token)
      ).items;
    // Never opened: every post is unread, and the thread starts at its first.
    expect(await unread(bob.token)).toEqual([
      { thread_id: starter, unread_count: 12, first_unread_id: starter },
    ]);
    expect((await thread('limit=5', starter, bob.token)).first_unread).toEqual({
      id: starter,
      page: 1,
    });
    expect(await markRead(posts[6]!, bob.token)).toEqual({ thread_id: starter, unread_count: 5 });
    expect(await unread(bob.token)).toEqual([
      { thread_id: starter, unread_count: 5, first_unread_id: posts[7] },
    ]);
    expect((await thread('limit=5', starter, bob.token)).first_unread).toEqual({
      id: posts[7],
      page: 2,
    });
    // Reading an earlier page again leaves the later posts read.
    expect((await markRead(posts[1]!, bob.token)).unread_count).toBe(5);
    // Alice's position is her own.
    expect((await unread(alice.token))[0]!.unread_count).toBe(12);
    expect((await markRead(posts[11]!, bob.token)).unread_count).toBe(0);
    expect(await unread(bob.token)).toEqual([]);
    expect((await thread('limit=5', starter, bob.token)).first_unread).toBeNull();
    // A new reply is unread again.
    const reply = await postMessage(t, alice.token, {
      board_id: board,
      parent_id: starter,
      subject: 'Re: Long',
      body: 'post 13',
    });
    posts.push(reply);
    expect(await unread(bob.token)).toEqual([
      { thread_id: starter, unread_count: 1, first_unread_id: reply },
    ]);
  });

  it('shows how many threads of each board hold unread posts', async () => {
    const other = await postMessage(t, alice.token, { board_id: board, subject: 'Two', body: 'x' });
    const unreadThreads = async (token?: string) =>
      (
        await get<{ items: Array<{ id: string; unread_threads: number | null }> }>(
          '/api/boards/',
          token,
        )
      ).items.find((b) => b.id === board)!.unread_threads;
    expect(await unreadThreads(bob.token)).toBe(2);
    await markRead(posts.at(-1)!, bob.token);
    expect(await unreadThreads(bob.token)).toBe(1);
    await markRead(other, bob.token);
    expect(await unreadThreads(bob.token)).toBe(0);
    expect(await unreadThreads()).toBeNull();
  });

  it('needs a reader, a message they may see and at most 100 threads', async () => {
    expect(
      (await t.app.inject({ method: 'PUT', url: `/api/messages/${starter}/read/` })).statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ url: `/api/read-positions/?threads=${starter}` })).statusCode,
    ).toBe(401);
    const hidden = await createBoard(t, sysop.token, { name: 'Staff', read_access: 'moderators' });
    const secret = await postMessage(t, sysop.token, { board_id: hidden, subject: 's', body: 's' });
    const res = await t.app.inject({
      method: 'PUT',
      url: `/api/messages/${secret}/read/`,
      headers: bearer(bob.token),
    });
    expect(res.statusCode).toBe(404);
    // A thread on a board the reader may not read says nothing about itself.
    expect(
      (await get<{ items: unknown[] }>(`/api/read-positions/?threads=${secret}`, bob.token)).items,
    ).toEqual([]);
    for (const threads of ['', Array.from({ length: 101 }, (_, i) => `t${i}`).join(',')]) {
      const answer = await t.app.inject({
        url: `/api/read-positions/?threads=${threads}`,
        headers: bearer(bob.token),
      });
      expect(answer.statusCode, threads).toBe(400);
      expect(answer.json().error.details.fields[0].field).toBe('querystring.threads');
    }
  });

  it('forgets read positions with their thread', async () => {
    const lone = await postMessage(t, alice.token, { board_id: board, subject: 'Lone', body: 'x' });
    await markRead(lone, bob.token);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${lone}/`,
      headers: bearer(alice.token),
    });
    expect(res.statusCode).toBe(200);
    const left = await t.ctx.database.db
      .selectFrom('read_positions')
      .select('thread_id')
      .where('thread_id', '=', lone)
      .execute();
    expect(left).toEqual([]);
  });
});
