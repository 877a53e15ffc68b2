// Sysops grant and take away roles and rights through the API, on SQLite and PostgreSQL: the change
// shows in the user's profile and the modlog, and nobody else (nor the sysop on themselves) may.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  createBoard,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

describe.each(DIALECTS)('admin user flags API on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let mod: Account;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [sysop, mod, alice] = await registerUsers(t, ['sysop', 'mod', 'alice'], {
      sysop: 'sysop',
      mod: 'moderator',
    });
  });
  afterAll(() => t.close());

  const setFlags = (token: string, username: string, payload: object) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${username}/`,
      headers: bearer(token),
      payload,
    });
  const profile = async (token: string) =>
    (await t.app.inject({ url: '/api/user/profile/', headers: bearer(token) })).json().data;
  const modlog = async () =>
    (await t.app.inject({ url: '/api/moderation/log/', headers: bearer(sysop.token) })).json().data
      .items as Array<{
      actor: { name: string };
      action: string;
      target_id: string;
      reason: string;
      details: Record<string, unknown>;
    }>;

  it('lets a sysop grant and revoke moderator, shown in the profile and the modlog', async () => {
    const moderationLog = () =>
      t.app.inject({ url: '/api/moderation/log/', headers: bearer(alice.token) });
    expect((await moderationLog()).statusCode).toBe(403);

    const grant = await setFlags(sysop.token, 'alice', { is_moderator: true });
    expect(grant.statusCode).toBe(200);
    expect(grant.json().data).toMatchObject({
      username: 'alice',
      is_moderator: true,
      is_sysop: false,
      can_post: true,
      is_banned: false,
      banned_until: null,
      ban_reason: null,
    });
    expect((await profile(alice.token)).is_moderator).toBe(true);
    // Her existing session moderates at once: roles are read on every request.
    expect((await moderationLog()).statusCode).toBe(200);
    const [granted] = await modlog();
    expect(granted).toMatchObject({
      actor: { name: 'sysop' },
      action: 'set_user_flags',
      target_id: alice.id,
      reason: 'moderator granted',
      details: { username: 'alice', is_moderator: true },
    });

    const revoke = await setFlags(sysop.token, 'alice', { is_moderator: false });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json().data.is_moderator).toBe(false);
    expect((await profile(alice.token)).is_moderator).toBe(false);
    expect((await moderationLog()).statusCode).toBe(403);
    const [revoked] = await modlog();
    expect(revoked).toMatchObject({
      action: 'set_user_flags',
      reason: 'moderator revoked',
      details: { username: 'alice', is_moderator: false },
    });
  });

  it('takes away and gives back the right to post', async () => {
    const board = await createBoard(t, sysop.token, { name: 'flags-general' });
    const post = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/messages/',
        headers: bearer(alice.token),
        payload: { board_id: board, subject: 'hello', body: 'hi all' },
      });
    expect((await post()).statusCode).toBe(201);

    const res = await setFlags(sysop.token, 'alice', { can_post: false, can_upload: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ can_post: false, can_upload: false });
    expect((await post()).statusCode).toBe(403);
    expect((await modlog())[0]).toMatchObject({
      reason: 'posting revoked, uploading revoked',
      details: { username: 'alice', can_post: false, can_upload: false },
    });

    await setFlags(sysop.token, 'alice', { can_post: true, can_upload: true });
    expect((await post()).statusCode).toBe(201);
  });

  it('writes nothing to the modlog when nothing changes', async () => {
    const before = (await modlog()).length;
    const res = await setFlags(sysop.token, 'alice', { can_post: true });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.can_post).toBe(true);
    expect((await modlog()).length).toBe(before);
  });

  it('refuses anyone but a sysop', async () => {
    for (const token of [mod.token, alice.token]) {
      const res = await setFlags(token, 'alice', { is_moderator: true });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await profile(alice.token)).is_moderator).toBe(false);
    const anonymous = await t.app.inject({
      method: 'PATCH',
      url: '/api/admin/users/alice/',
      payload: { is_moderator: true },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 404 for an unknown user', async () => {
    const res = await setFlags(sysop.token, 'nobody_here', { is_moderator: true });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('refuses an empty body or fields it does not know, changing nothing', async () => {
    const before = (await modlog()).length;
    for (const payload of [{}, { is_sysop: true }, { is_moderator: true, karma: 5 }]) {
      const res = await setFlags(sysop.token, 'alice', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
    }
    const wrongType = await setFlags(sysop.token, 'alice', { is_moderator: 'yes' });
    expectFieldRefused(wrongType, 'body.is_moderator');

    expect(await profile(alice.token)).toMatchObject({ is_sysop: false, is_moderator: false });
    expect((await modlog()).length).toBe(before);
  });

  it('refuses a sysop changing their own flags', async () => {
    const before = (await modlog()).length;
    const res = await setFlags(sysop.token, 'SYSOP', { can_post: false });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/your own/);
    expect((await profile(sysop.token)).can_post).toBe(true);
    expect((await modlog()).length).toBe(before);
  });
});
