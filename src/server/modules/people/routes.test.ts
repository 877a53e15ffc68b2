// People through the API on SQLite and PostgreSQL: a user's public profile (posts counted only on
// boards the reader may read, recent posts bounded, banned keys gone), avatars beside posts in a
// thread, and who's online gathered from the realtime rooms' presence, within the reader's reach.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  banKeyOf,
  bearer,
  createBoard,
  postMessage,
  registerCast,
  registerUser,
  sayInChat,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { RECENT_POSTS_MAX } from './service.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082',
  'hex',
);

interface ProfileBody {
  user_id: string;
  fingerprint: string;
  nickname: string;
  avatar_url: string | null;
  role: string;
  joined_at: string;
  post_count: number;
  recent_posts: Array<{ id: string; board_name: string; subject: string; thread_id: string }>;
}

interface OnlineBody {
  items: Array<{
    user_id: string | null;
    nickname: string;
    fingerprint: string | null;
    rooms: Array<{ id: string; name: string }>;
  }>;
  truncated: boolean;
}

describe.each(DIALECTS)('people API on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let aliceKey: string;
  let lobby: string;
  let backroom: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    aliceKey = (await t.ctx.accounts.getUserByUsername('alice')).fingerprint;
    lobby = await createBoard(t, sysop.token, { name: 'Lobby' });
    backroom = await createBoard(t, sysop.token, { name: 'Backroom', read_access: 'members' });
  });
  afterAll(() => t.close());

  const profile = (fingerprint: string, token: string | null = null) =>
    t.app.inject({
      url: `/api/people/${fingerprint}/`,
      headers: token === null ? {} : bearer(token),
    });
  const online = (token: string | null) =>
    t.app.inject({ url: '/api/people/online/', headers: token === null ? {} : bearer(token) });

  it('shows a profile with the posts the reader may read, newest first', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/api/user/avatar/',
      headers: { ...bearer(alice.token), 'content-type': 'image/png' },
      payload: PNG,
    });
    const first = await postMessage(t, alice.token, {
      board_id: lobby,
      subject: 'Hello lobby',
      body: 'first',
    });
    await postMessage(t, alice.token, { board_id: lobby, subject: 'Second', body: 'again' });
    await postMessage(t, alice.token, { board_id: backroom, subject: 'Secret', body: 'hush' });
    const gone = await postMessage(t, alice.token, { board_id: lobby, subject: 'Oops', body: 'x' });
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${gone}/`,
      headers: bearer(alice.token),
    });
    expect(del.statusCode, del.body).toBe(200);

    const asBob = await profile(aliceKey, bob.token);
    expect(asBob.statusCode, asBob.body).toBe(200);
    const p = asBob.json().data as ProfileBody;
    expect(p).toMatchObject({
      user_id: alice.id,
      fingerprint: aliceKey,
      nickname: 'alice',
      role: 'member',
      post_count: 3,
    });
    expect(p.avatar_url).toMatch(new RegExp(`^/api/users/${alice.id}/avatar/`));
    expect(Date.now() - Date.parse(p.joined_at)).toBeLessThan(3_600_000);
    expect(p.recent_posts.map((r) => r.subject)).toEqual(['Secret', 'Second', 'Hello lobby']);
    expect(p.recent_posts[2]).toMatchObject({ id: first, thread_id: first, board_name: 'Lobby' });

    // A visitor reads only public boards: the members' backroom does not count for them.
    const asVisitor = await profile(aliceKey);
    expect(asVisitor.statusCode).toBe(200);
    const v = asVisitor.json().data as ProfileBody;
    expect(v.post_count).toBe(2);
    expect(v.recent_posts.map((r) => r.subject)).toEqual(['Second', 'Hello lobby']);
  });

  it('lists at most the newest posts, counting them all', async () => {
    const dana = await registerUser(t.app, 'dana');
    const danaKey = (await t.ctx.accounts.getUserByUsername('dana')).fingerprint;
    for (let i = 0; i < RECENT_POSTS_MAX + 2; i++) {
      await postMessage(t, dana.token, { board_id: lobby, subject: `Post ${i}`, body: 'b' });
    }
    const p = (await profile(danaKey, bob.token)).json().data as ProfileBody;
    expect(p.post_count).toBe(RECENT_POSTS_MAX + 2);
    expect(p.recent_posts).toHaveLength(RECENT_POSTS_MAX);
    expect(p.recent_posts[0]!.subject).toBe(`Post ${RECENT_POSTS_MAX + 1}`);
  });

  it('answers 404 for an unknown key, 400 for a malformed one, and names the role', async () => {
    const unknown = await profile('c'.repeat(64), bob.token);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');
    const bad = await profile('not-a-key', bob.token);
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().error)).toContain('fingerprint');
    const root = await t.ctx.accounts.getUserByUsername('root');
    expect(((await profile(root.fingerprint)).json().data as ProfileBody).role).toBe('sysop');
  });

  it("shows local authors' avatars beside their posts in a thread", async () => {
    const opening = await postMessage(t, alice.token, {
      board_id: lobby,
      subject: 'Avatars',
      body: 'mine shows',
    });
    await postMessage(t, bob.token, {
      board_id: lobby,
      parent_id: opening,
      subject: 'Re: Avatars',
      body: 'mine does not: I have none',
    });
    const res = await t.app.inject({ url: `/api/messages/${opening}/` });
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json().data as {
      message: { author: { avatar_url: string | null } };
      thread: Array<{ author: { nickname: string; avatar_url: string | null } }>;
    };
    expect(data.message.author.avatar_url).toMatch(new RegExp(`^/api/users/${alice.id}/avatar/`));
    const reply = data.thread.find((m) => m.author.nickname === 'bob')!;
    expect(reply.author.avatar_url).toBeNull();
  });

  it("lists who's online from the rooms' presence, within the reader's reach", async () => {
    const carol = await registerUser(t.app, 'carol');
    await sayInChat(t, alice.token, 'hello room');
    await t.app.inject({ url: '/api/chat/read_events/?limit=1', headers: bearer(bob.token) });
    const res = await online(carol.token);
    expect(res.statusCode, res.body).toBe(200);
    const list = res.json().data as OnlineBody;
    const names = list.items.map((p) => p.nickname);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(names).not.toContain('carol');
    const a = list.items.find((p) => p.nickname === 'alice')!;
    expect(a).toMatchObject({ user_id: alice.id, fingerprint: aliceKey });
    expect(a.rooms).toHaveLength(1);
    expect(list.truncated).toBe(false);

    // AxonChat is for members: a visitor sees nobody there.
    const visitor = await online(null);
    expect(visitor.statusCode).toBe(200);
    expect((visitor.json().data as OnlineBody).items).toEqual([]);
  });

  it('shows no profile of a banned key, and no banned account online', async () => {
    const erin = await registerUser(t.app, 'erin');
    const erinKey = (await t.ctx.accounts.getUserByUsername('erin')).fingerprint;
    await sayInChat(t, erin.token, 'here I am');
    expect((await profile(erinKey, bob.token)).statusCode).toBe(200);
    const before = (await online(bob.token)).json().data as OnlineBody;
    expect(before.items.map((p) => p.nickname)).toContain('erin');
    await banKeyOf(t, erin.id);
    expect((await profile(erinKey, bob.token)).statusCode).toBe(404);
    const ban = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/users/erin/ban/',
      headers: bearer(sysop.token),
      payload: { reason: 'spam' },
    });
    expect(ban.statusCode, ban.body).toBe(200);
    const after = (await online(bob.token)).json().data as OnlineBody;
    expect(after.items.map((p) => p.nickname)).not.toContain('erin');
  });
});
