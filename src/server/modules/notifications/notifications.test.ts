// Notifications through the API on SQLite and PostgreSQL: who is told of a reply, a watched
// thread, a mention and a private message (never the author, nobody who ignores them or may not
// read the board), read marks, the bound per user, bad input, and the live feed: a parked long
// poll answered at once by a notification, a role change and a ban (with its reason and end).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createBoard,
  postMessage,
  registerUsers,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { until } from '../../../test-support/wait.js';
import { NOTIFICATIONS_KEPT } from './service.js';

interface NotificationBody {
  id: string;
  kind: string;
  message_id: string | null;
  private_message_id: string | null;
  thread_id: string | null;
  actor: { nickname: string; user_id: string | null };
  subject: string;
  read_at: string | null;
}

interface ListBody {
  items: NotificationBody[];
  next_cursor: string | null;
  unread: number;
}

interface LiveBody {
  version: number;
  unread: number;
  unread_private_messages: number;
  user: { username: string; is_moderator: boolean };
}

describe.each(DIALECTS)('notifications on %s', (dialect) => {
  let t: TestApp;
  let root: Account;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let dave: Account;
  let board: string;
  let staffBoard: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [root, alice, bob, carol, dave] = await registerUsers(
      t,
      ['root', 'alice', 'bob', 'carol', 'dave'],
      { root: 'sysop' },
    );
    board = await createBoard(t, root.token, { name: 'General' });
    staffBoard = await createBoard(t, root.token, { name: 'Staff', read_access: 'moderators' });
  });
  afterAll(() => t.close());

  const post = (who: Account, subject: string, body: string, parent?: string, on = board) =>
    postMessage(t, who.token, { board_id: on, subject, body, parent_id: parent ?? null });
  const list = async (who: Account, query = ''): Promise<ListBody> => {
    const res = await t.app.inject({
      url: `/api/notifications/${query}`,
      headers: bearer(who.token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as ListBody;
  };
  const live = (who: Account, query = '') =>
    t.app.inject({ url: `/api/notifications/live/${query}`, headers: bearer(who.token) });
  const version = async (who: Account) => ((await live(who)).json().data as LiveBody).version;
  const readAll = (who: Account) =>
    t.app.inject({
      method: 'POST',
      url: '/api/notifications/read_all/',
      headers: bearer(who.token),
    });
  const watch = (who: Account, id: string, watching: boolean) =>
    t.app.inject({
      method: 'PUT',
      url: `/api/notifications/watches/${id}/`,
      headers: bearer(who.token),
      payload: { watching },
    });
  /** A live poll parked on the server (wrapped: awaiting it must not await the answer). */
  const parked = async (who: Account) => {
    const before = t.ctx.realtime.connections.size;
    const answer = live(who, `?after=${await version(who)}&wait=30`);
    await until(() => t.ctx.realtime.connections.size > before);
    return { answer };
  };

  it('tells the author of the post replied to, once, and not the one replying', async () => {
    const thread = await post(alice, 'Sunsets', 'Post your sunsets');
    const reply = await post(bob, 'Re: Sunsets', 'Here is mine', thread);
    const mine = await list(alice);
    expect(mine.items[0]).toMatchObject({
      kind: 'reply',
      message_id: reply,
      thread_id: thread,
      subject: 'Re: Sunsets',
      actor: { nickname: 'bob' },
      read_at: null,
    });
    expect(mine.items.filter((n) => n.message_id === reply)).toHaveLength(1);
    expect((await list(bob)).items.some((n) => n.message_id === reply)).toBe(false);
  });

  it('tells watchers of replies in a thread, until they leave it', async () => {
    const thread = await post(alice, 'Tides', 'Tide tables');
    // Carol watches; alice watches her own thread by default.
    expect((await watch(carol, thread, true)).json().data).toMatchObject({
      thread_id: thread,
      watching: true,
      chosen: true,
    });
    const first = await post(bob, 'Re: Tides', 'high at noon', thread);
    expect((await list(carol)).items[0]).toMatchObject({ kind: 'thread_reply', message_id: first });
    // A reply to bob's reply: alice is told as the thread's opener, bob as the one replied to.
    const second = await post(dave, 'Re: Tides', 'low at six', first);
    expect((await list(alice)).items[0]).toMatchObject({
      kind: 'thread_reply',
      message_id: second,
    });
    expect((await list(bob)).items[0]).toMatchObject({ kind: 'reply', message_id: second });

    // Alice leaves her own thread, carol leaves it too: only a direct reply still tells them.
    const res = await t.app.inject({
      url: `/api/notifications/watches/${second}/`,
      headers: bearer(alice.token),
    });
    expect(res.json().data).toMatchObject({ thread_id: thread, watching: true, chosen: false });
    expect((await watch(alice, second, false)).statusCode).toBe(200);
    expect((await watch(carol, thread, false)).statusCode).toBe(200);
    const third = await post(dave, 'Re: Tides', 'spring tide', first);
    expect((await list(alice)).items.some((n) => n.message_id === third)).toBe(false);
    expect((await list(carol)).items.some((n) => n.message_id === third)).toBe(false);
    const direct = await post(dave, 'Re: Tides', 'to alice', thread);
    expect((await list(alice)).items[0]).toMatchObject({ kind: 'reply', message_id: direct });
  });

  it('tells the users a post mentions, by @username only', async () => {
    const id = await post(bob, 'Hello', 'Thanks @Carol and @nobody_here, mail me at x@dave.');
    expect((await list(carol)).items[0]).toMatchObject({ kind: 'mention', message_id: id });
    expect((await list(dave)).items.some((n) => n.message_id === id)).toBe(false);
    // Nobody who may not read the board is told.
    const hidden = await post(root, 'Staff only', 'ping @carol', undefined, staffBoard);
    expect((await list(carol)).items.some((n) => n.message_id === hidden)).toBe(false);
  });

  it('tells nobody who ignores the author', async () => {
    const bobKey = (await t.ctx.accounts.getUser(bob.id)).pubkey;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(dave.token),
      payload: { pubkey: bobKey },
    });
    expect(res.statusCode, res.body).toBe(201);
    const thread = await post(dave, 'Quiet', 'please');
    const reply = await post(bob, 'Re: Quiet', 'loud @dave', thread);
    expect((await list(dave)).items.some((n) => n.message_id === reply)).toBe(false);
    await t.app.inject({
      method: 'DELETE',
      url: `/api/user/ignored_pubkeys/${(await t.ctx.accounts.getUser(bob.id)).fingerprint}/`,
      headers: bearer(dave.token),
    });
  });

  it('tells the recipient of a private message, unless they ignore its sender', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: 'carol', subject: 'secret', body: 'sealed' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const pm = res.json().data.id as string;
    const item = (await list(carol)).items[0]!;
    expect(item).toMatchObject({
      kind: 'private_message',
      private_message_id: pm,
      message_id: null,
      subject: '',
      actor: { nickname: 'alice', user_id: alice.id },
    });
    const state = (await live(carol)).json().data as LiveBody;
    expect(state.unread_private_messages).toBe(1);
    // Opening the letter reads its notification too.
    const { answer } = await parked(carol);
    const opened = await t.app.inject({
      url: `/api/private_messages/${pm}/`,
      headers: bearer(carol.token),
    });
    expect(opened.statusCode).toBe(200);
    const after = (await answer).json().data as LiveBody;
    expect(after).toMatchObject({ unread: state.unread - 1, unread_private_messages: 0 });
    expect((await list(carol)).items[0]!.read_at).not.toBeNull();

    // A letter from someone carol ignores tells her nothing.
    const aliceKey = (await t.ctx.accounts.getUser(alice.id)).pubkey;
    await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(carol.token),
      payload: { pubkey: aliceKey },
    });
    const ignored = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: 'carol', subject: 'again', body: 'sealed' },
    });
    expect(ignored.statusCode).toBe(201);
    expect((await list(carol)).items[0]!.private_message_id).toBe(pm);
    await t.app.inject({
      method: 'DELETE',
      url: `/api/user/ignored_pubkeys/${(await t.ctx.accounts.getUser(alice.id)).fingerprint}/`,
      headers: bearer(carol.token),
    });
  });

  it('marks one or all read, only the reader’s own, and pages by cursor', async () => {
    const before = await list(carol);
    expect(before.unread).toBeGreaterThan(1);
    const first = before.items.find((n) => n.read_at === null)!;
    // Someone else's notification is not there for them.
    const other = await t.app.inject({
      method: 'POST',
      url: `/api/notifications/${first.id}/read/`,
      headers: bearer(bob.token),
    });
    expect(other.statusCode).toBe(404);
    expect((await list(carol)).unread).toBe(before.unread);
    const mark = await t.app.inject({
      method: 'POST',
      url: `/api/notifications/${first.id}/read/`,
      headers: bearer(carol.token),
    });
    expect(mark.statusCode, mark.body).toBe(200);
    expect(mark.json().data.read_at).not.toBeNull();
    expect((await list(carol)).unread).toBe(before.unread - 1);
    expect((await list(carol, '?unread=true')).items.some((n) => n.id === first.id)).toBe(false);

    const page = await list(carol, '?limit=1');
    expect(page.items).toHaveLength(1);
    const next = await list(carol, `?limit=1&cursor=${page.next_cursor}`);
    expect(next.items[0]!.id < page.items[0]!.id).toBe(true);

    expect((await readAll(carol)).json().data).toEqual({ marked: before.unread - 1 });
    expect((await list(carol)).unread).toBe(0);
  });

  it('refuses bad input and changes nothing', async () => {
    const unread = (await list(alice)).unread;
    for (const url of [
      '/api/notifications/?cursor=nonsense',
      '/api/notifications/?limit=101',
      '/api/notifications/live/?after=1&wait=31',
      '/api/notifications/live/?after=-1',
    ]) {
      const res = await t.app.inject({ url, headers: bearer(alice.token) });
      expect(res.statusCode, url).toBe(400);
    }
    const unknown = await watch(alice, '0190f000-0000-7000-8000-000000000000', true);
    expect(unknown.statusCode).toBe(404);
    const wrong = await t.app.inject({
      method: 'PUT',
      url: `/api/notifications/watches/${board}/`,
      headers: bearer(alice.token),
      payload: { watching: 'yes' },
    });
    expect(wrong.statusCode).toBe(400);
    expect((await t.app.inject({ url: '/api/notifications/' })).statusCode).toBe(401);
    expect((await list(alice)).unread).toBe(unread);
  });

  it(`keeps the latest ${NOTIFICATIONS_KEPT} per user`, async () => {
    for (let i = 0; i < NOTIFICATIONS_KEPT + 3; i++) await post(bob, `Ping ${i}`, `@dave ${i}`);
    const rows = await t.ctx.database.db
      .selectFrom('notifications')
      .select('subject')
      .where('user_id', '=', dave.id)
      .orderBy('id', 'desc')
      .execute();
    expect(rows).toHaveLength(NOTIFICATIONS_KEPT);
    expect(rows[0]!.subject).toBe(`Ping ${NOTIFICATIONS_KEPT + 2}`);
  });

  it('answers a parked live poll the moment a notification arrives', async () => {
    const thread = await post(carol, 'Live', 'wait for it');
    const start = await version(carol);
    const { answer } = await parked(carol);
    await post(bob, 'Re: Live', 'now', thread);
    const res = await answer;
    expect(res.statusCode, res.body).toBe(200);
    const state = res.json().data as LiveBody;
    expect(state.version).toBeGreaterThan(start);
    expect(state.unread).toBe(1);
    // Marking read in another tab moves the version too.
    const { answer: again } = await parked(carol);
    await readAll(carol);
    expect(((await again).json().data as LiveBody).unread).toBe(0);
  });

  it('tells a signed-in user of a new role at once', async () => {
    const { answer } = await parked(bob);
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/api/admin/users/bob/',
      headers: bearer(root.token),
      payload: { is_moderator: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    const state = (await answer).json().data as LiveBody;
    expect(state.user).toMatchObject({ username: 'bob', is_moderator: true });
  });

  it('tells a banned user why and until when, at once', async () => {
    const { answer } = await parked(dave);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/users/dave/ban/',
      headers: bearer(root.token),
      payload: { reason: 'spamming mentions', duration_seconds: 3600 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const refused = await answer;
    expect(refused.statusCode).toBe(403);
    const error = refused.json().error as {
      code: string;
      details: { reason: string; until: string };
    };
    expect(error.code).toBe('ACCOUNT_BANNED');
    expect(error.details.reason).toBe('spamming mentions');
    expect(Date.parse(error.details.until)).toBeGreaterThan(Date.now());
    // Logging in again is refused with the same reason.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'dave', password: dave.password },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.details.reason).toBe('spamming mentions');
  });
});
