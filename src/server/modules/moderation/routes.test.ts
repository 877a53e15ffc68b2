// Bans through the API on SQLite and PostgreSQL: a banned user's token stops working at once,
// timed bans run out, only moderators ban, and pubkey bans are managed by moderators.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

describe.each(DIALECTS)('moderation API on %s', (dialect) => {
  let t: TestApp;
  let mod: Account;
  let sysop: Account;
  let mallory: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [mod, sysop, mallory] = await Promise.all([
      registerUser(t.app, 'mod'),
      registerUser(t.app, 'sysop'),
      registerUser(t.app, 'mallory', 'mallory password'),
    ]);
    await promote(t, 'mod', 'moderator');
    await promote(t, 'sysop', 'sysop');
  });
  afterAll(() => t.close());

  const profile = (token: string) =>
    t.app.inject({ url: '/api/user/profile/', headers: bearer(token) });
  const ban = (token: string, username: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: `/api/moderation/users/${username}/ban/`,
      headers: bearer(token),
      payload,
    });

  it('lets only moderators ban', async () => {
    const res = await ban(mallory.token, 'mod', { reason: 'coup' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect((await profile(mod.token)).statusCode).toBe(200);
  });

  it('stops a banned user at once: token, login and every endpoint', async () => {
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'mallory', password: 'mallory password' },
    });
    const res = await ban(mod.token, 'mallory', { reason: 'spam' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      username: 'mallory',
      is_banned: true,
      banned_until: null,
    });

    for (const token of [mallory.token, second.json().data.token as string]) {
      expect((await profile(token)).statusCode).toBe(401);
      const patch = await t.app.inject({
        method: 'PATCH',
        url: '/api/user/profile/',
        headers: bearer(token),
        payload: { nickname: 'evil' },
      });
      expect(patch.statusCode).toBe(401);
    }
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'mallory', password: 'mallory password' },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.code).toBe('ACCOUNT_BANNED');
    const wrongPassword = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'mallory', password: 'guessing wrong' },
    });
    // The ban is told only to whoever knows the password.
    expect(wrongPassword.statusCode).toBe(401);
    const recovery = await t.app.inject({
      method: 'POST',
      url: '/api/auth/recover/',
      payload: {
        username: 'mallory',
        recovery_key: mallory.recoveryKey,
        new_password: 'new mallory pw',
      },
    });
    expect(recovery.statusCode).toBe(403);
    const user = await t.ctx.accounts.getUserByUsername('mallory');
    expect(user.nickname).toBe('mallory');

    const unban = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/users/mallory/unban/',
      headers: bearer(mod.token),
    });
    expect(unban.statusCode).toBe(200);
    const back = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'mallory', password: 'mallory password' },
    });
    expect(back.statusCode).toBe(200);
    mallory = { ...mallory, token: back.json().data.token };
  });

  it('ends a timed ban when its time runs out', async () => {
    const res = await ban(mod.token, 'mallory', { reason: 'cool off', duration_seconds: 3600 });
    expect(res.statusCode).toBe(200);
    const until = new Date(res.json().data.banned_until).getTime();
    expect(until - Date.now()).toBeGreaterThan(3590_000);
    // Move the ban's end into the past, as if the hour had passed.
    await t.ctx.database.db
      .updateTable('users')
      .set({ banned_until: Date.now() - 1000 })
      .where('username', '=', 'mallory')
      .execute();
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'mallory', password: 'mallory password' },
    });
    expect(login.statusCode).toBe(200);
    mallory = { ...mallory, token: login.json().data.token };
  });

  it('refuses bad ban input, unknown users, self-bans and moderators banning sysops', async () => {
    expect((await ban(mod.token, 'mallory', {})).json().error.details.fields[0].field).toBe(
      'body.reason',
    );
    const short = await ban(mod.token, 'mallory', { reason: 'x', duration_seconds: 5 });
    expectFieldRefused(short, 'body.duration_seconds');
    expect((await ban(mod.token, 'nobody_at_all', { reason: 'x' })).statusCode).toBe(404);
    expect((await ban(mod.token, 'mod', { reason: 'x' })).statusCode).toBe(403);
    expect((await ban(mod.token, 'sysop', { reason: 'x' })).statusCode).toBe(403);
    expect((await profile(sysop.token)).statusCode).toBe(200);
  });

  it('manages banned pubkeys: moderators only, with expiry and a cursor', async () => {
    const target = await t.ctx.accounts.getUserByUsername('mallory');
    const asUser = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(mallory.token),
      payload: { pubkey: target.fingerprint, reason: 'x' },
    });
    expect(asUser.statusCode).toBe(403);

    const created = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(mod.token),
      payload: { pubkey: target.pubkey, reason: 'forged posts', duration_seconds: 86_400 },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().data).toMatchObject({
      fingerprint: target.fingerprint,
      reason: 'forged posts',
    });
    expect(created.json().data.pubkey).toContain('BEGIN PUBLIC KEY');
    expect(await t.ctx.bannedPubkeys.isBanned(target.fingerprint)).toBe(true);
    expect(
      await t.ctx.bannedPubkeys.isBanned(target.fingerprint, Date.now() + 2 * 86_400_000),
    ).toBe(false);

    const other = 'ab'.repeat(32);
    await t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(sysop.token),
      payload: { pubkey: other, reason: 'for good' },
    });
    const page1 = (
      await t.app.inject({
        url: '/api/moderation/banned_pubkeys/?limit=1',
        headers: bearer(mod.token),
      })
    ).json().data;
    const page2 = (
      await t.app.inject({
        url: `/api/moderation/banned_pubkeys/?limit=1&cursor=${page1.next_cursor}`,
        headers: bearer(mod.token),
      })
    ).json().data;
    expect(
      [...page1.items, ...page2.items].map((b: { fingerprint: string }) => b.fingerprint).sort(),
    ).toEqual([target.fingerprint, other].sort());
    expect(page2.next_cursor).toBeNull();

    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(mod.token),
      payload: {
        pubkey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----',
        reason: 'x',
      },
    });
    expectFieldRefused(bad, 'body.pubkey');

    // The sysop made that ban: a moderator may not lift it (issue #12), the sysop may.
    const byMod = await t.app.inject({
      method: 'DELETE',
      url: `/api/moderation/banned_pubkeys/${other}/`,
      headers: bearer(mod.token),
    });
    expect(byMod.statusCode).toBe(403);
    expect(await t.ctx.bannedPubkeys.isBanned(other)).toBe(true);
    const lift = await t.app.inject({
      method: 'DELETE',
      url: `/api/moderation/banned_pubkeys/${other}/`,
      headers: bearer(sysop.token),
    });
    expect(lift.statusCode).toBe(200);
    expect(await t.ctx.bannedPubkeys.isBanned(other)).toBe(false);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/api/moderation/banned_pubkeys/${other}/`,
      headers: bearer(mod.token),
    });
    expect(again.statusCode).toBe(404);
  });

  it('lists users for sysops only', async () => {
    expect(
      (await t.app.inject({ url: '/api/admin/users/', headers: bearer(mod.token) })).statusCode,
    ).toBe(403);
    const res = await t.app.inject({
      url: '/api/admin/users/?limit=2',
      headers: bearer(sysop.token),
    });
    expect(res.statusCode).toBe(200);
    const page = res.json().data;
    expect(page.items).toHaveLength(2);
    const rest = await t.app.inject({
      url: `/api/admin/users/?cursor=${page.next_cursor}`,
      headers: bearer(sysop.token),
    });
    const names = [...page.items, ...rest.json().data.items].map(
      (u: { username: string }) => u.username,
    );
    expect(names.sort()).toEqual(['mallory', 'mod', 'sysop']);
  });
});
