// The accounts API through Fastify inject, on SQLite and on PostgreSQL: every endpoint and its
// error paths, and that a failed command changes nothing.
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  injectedProof,
  registerUser,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    alice = await registerUser(t.app, 'alice', 'alice password 1');
  });
  afterAll(() => t.close());

  const userCount = async () =>
    Number(
      (
        await t.ctx.database.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  describe('registration', () => {
    it('answers 201 with a token, the profile and a recovery key shown once', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register/',
        payload: {
          username: 'Bob_1',
          password: 'bob password',
          nickname: 'Bobby',
          ...(await injectedProof(t.app)),
        },
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({ success: true, error: null });
      expect(new Date(body.timestamp).getTime()).not.toBeNaN();
      expect(body.data.token).toMatch(/^ey/);
      expect(body.data.recovery_key).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
      expect(body.data.user).toMatchObject({
        username: 'Bob_1',
        nickname: 'Bobby',
        timezone: 'UTC',
        karma: 0,
        is_sysop: false,
        is_moderator: false,
        can_post: true,
        can_upload: true,
        avatar_url: null,
      });
      expect(body.data.user.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(body.data.user.pubkey).toContain('BEGIN PUBLIC KEY');
      const profile = await t.app.inject({
        url: '/api/user/profile/',
        headers: bearer(body.data.token),
      });
      expect(profile.json().data.username).toBe('Bob_1');
    });

    it('starts the account in the time zone it is given, and refuses an unknown zone', async () => {
      const register = async (username: string, timezone: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/register/',
          payload: {
            username,
            password: 'zone password',
            timezone,
            ...(await injectedProof(t.app)),
          },
        });
      const res = await register('Zoe_1', 'America/Sao_Paulo');
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().data.user.timezone).toBe('America/Sao_Paulo');
      const before = await userCount();
      expectFieldRefused(await register('Zoe_2', 'Mars/Olympus'), 'body.timezone');
      expect(await userCount()).toBe(before);
    });

    it('answers 409 for a taken username, whatever its case, and adds no row', async () => {
      const before = await userCount();
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register/',
        payload: {
          username: 'ALICE',
          password: 'another password',
          ...(await injectedProof(t.app)),
        },
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'USERNAME_TAKEN' });
      expect(await userCount()).toBe(before);
    });

    it('gives exactly one of two simultaneous registrations of a name', async () => {
      const attempts = await Promise.all(
        [1, 2].map(async () =>
          t.app.inject({
            method: 'POST',
            url: '/api/auth/register/',
            payload: {
              username: 'twin',
              password: 'twin password',
              ...(await injectedProof(t.app)),
            },
          }),
        ),
      );
      expect(attempts.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    });

    it.each([
      [{ password: 'long enough' }, 'body.username'],
      [{ username: 'ab', password: 'long enough' }, 'body.username'],
      [{ username: 'x'.repeat(33), password: 'long enough' }, 'body.username'],
      [{ username: 'has space', password: 'long enough' }, 'body.username'],
      [{ username: 'carol', password: 'short' }, 'body.password'],
      [{ username: 'carol', password: 'p'.repeat(1025) }, 'body.password'],
      [{ username: 'carol', password: 12345678 }, 'body.password'],
      [{ username: 'carol', password: 'long enough', nickname: '' }, 'body.nickname'],
      [{ username: 'carol', password: 'long enough', nickname: 'n'.repeat(51) }, 'body.nickname'],
      [{ username: 'carol', password: 'long enough', nickname: 'bell\u0007' }, 'body.nickname'],
      [{ username: 'carol', password: 'long enough', is_sysop: true }, 'body.is_sysop'],
    ])('refuses %j naming %s, and writes nothing', async (payload, field) => {
      const before = await userCount();
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register/',
        payload: { ...payload, ...(await injectedProof(t.app)) },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body).toMatchObject({
        success: false,
        data: null,
        error: { code: 'VALIDATION_ERROR' },
      });
      expect(body.error.details.fields[0].field).toBe(field);
      expect(body.error.message).toContain(field);
      expect(await userCount()).toBe(before);
    });
  });

  describe('login and logout', () => {
    it('logs in with the right password and the token works', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { username: 'alice', password: 'alice password 1' },
      });
      expect(res.statusCode).toBe(200);
      const { token, user, expires_at } = res.json().data;
      expect(user.username).toBe('alice');
      const days = (new Date(expires_at).getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThanOrEqual(7);
      const profile = await t.app.inject({ url: '/api/user/profile/', headers: bearer(token) });
      expect(profile.statusCode).toBe(200);
    });

    it('gives a wrong password and an unknown user the same answer', async () => {
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { username: 'alice', password: 'not the password' },
      });
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { username: 'nobody_here', password: 'not the password' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.json().error).toEqual(unknown.json().error);
      expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
    });

    it('revokes the token at logout, and only that session', async () => {
      const a = await login('alice', 'alice password 1');
      const b = await login('alice', 'alice password 1');
      const out = await t.app.inject({
        method: 'POST',
        url: '/api/auth/logout/',
        headers: bearer(a),
      });
      expect(out.statusCode).toBe(200);
      expect(out.json().data).toEqual({ logged_out: true });
      const after = await t.app.inject({ url: '/api/user/profile/', headers: bearer(a) });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe('SESSION_EXPIRED');
      expect(
        (await t.app.inject({ url: '/api/user/profile/', headers: bearer(b) })).statusCode,
      ).toBe(200);
    });

    it("opens a session's private key once, and a revoked session cannot reach it", async () => {
      const token = await login('alice', 'alice password 1');
      const db = t.ctx.database.db;
      const first = await t.ctx.sessions.resolve(db, token);
      const key = first.privateKey();
      // The same key object on the session's next request, and it is the user's own key.
      expect((await t.ctx.sessions.resolve(db, token)).privateKey()).toBe(key);
      expect(createPublicKey(key).export({ type: 'spki', format: 'pem' })).toBe(first.user.pubkey);
      const other = await t.ctx.sessions.resolve(db, await login('alice', 'alice password 1'));
      expect(other.privateKey()).not.toBe(key);
      await t.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: bearer(token) });
      await expect(t.ctx.sessions.resolve(db, token)).rejects.toMatchObject({ status: 401 });
    });

    it.each([
      ['no header', {}],
      ['a malformed header', { authorization: 'Token abc' }],
      [
        'a forged token',
        { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4In0.c2lnbmF0dXJl' },
      ],
    ])('answers 401 with %s', async (_name, headers) => {
      const res = await t.app.inject({ url: '/api/user/profile/', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ success: false, data: null });
    });
  });

  describe('profile', () => {
    it('updates nickname and timezone and refuses bad values naming the field', async () => {
      const res = await t.app.inject({
        method: 'PATCH',
        url: '/api/user/profile/',
        headers: bearer(alice.token),
        payload: { nickname: '  Alice A.  ', timezone: 'Europe/Berlin' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toMatchObject({ nickname: 'Alice A.', timezone: 'Europe/Berlin' });

      for (const [payload, field] of [
        [{ timezone: 'Mars/Olympus' }, 'body.timezone'],
        [{ nickname: 'x'.repeat(51) }, 'body.nickname'],
        [{ karma: 1000 }, 'body.karma'],
        [{}, 'body'],
      ] as const) {
        const bad = await t.app.inject({
          method: 'PATCH',
          url: '/api/user/profile/',
          headers: bearer(alice.token),
          payload,
        });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
        expect(bad.json().error.details.fields[0].field).toBe(field);
      }
      const profile = await t.app.inject({
        url: '/api/user/profile/',
        headers: bearer(alice.token),
      });
      expect(profile.json().data).toMatchObject({
        nickname: 'Alice A.',
        timezone: 'Europe/Berlin',
        karma: 0,
      });
    });

    it('sets, serves and removes an avatar image, checking its bytes', async () => {
      const put = await t.app.inject({
        method: 'PUT',
        url: '/api/user/avatar/',
        headers: { ...bearer(alice.token), 'content-type': 'image/png' },
        payload: PNG,
      });
      expect(put.statusCode).toBe(200);
      const url: string = put.json().data.avatar_url;
      expect(url).toMatch(new RegExp(`^/api/users/${alice.id}/avatar/\\?v=[0-9a-f]{16}$`));
      const image = await t.app.inject({ url });
      expect(image.statusCode).toBe(200);
      expect(image.headers['content-type']).toBe('image/png');
      expect(image.headers['x-content-type-options']).toBe('nosniff');
      expect(image.rawPayload).toEqual(PNG);

      const html = await t.app.inject({
        method: 'PUT',
        url: '/api/user/avatar/',
        headers: { ...bearer(alice.token), 'content-type': 'image/png' },
        payload: Buffer.from('<script>alert(1)</script>'),
      });
      expect(html.statusCode).toBe(415);
      const svg = await t.app.inject({
        method: 'PUT',
        url: '/api/user/avatar/',
        headers: { ...bearer(alice.token), 'content-type': 'image/svg+xml' },
        payload: '<svg/>',
      });
      expect(svg.statusCode).toBe(415);
      const huge = await t.app.inject({
        method: 'PUT',
        url: '/api/user/avatar/',
        headers: { ...bearer(alice.token), 'content-type': 'image/png' },
        payload: Buffer.concat([PNG, Buffer.alloc(600 * 1024)]),
      });
      expect(huge.statusCode).toBe(413);
      expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
      // The refused uploads left the first avatar in place.
      expect((await t.app.inject({ url })).rawPayload).toEqual(PNG);

      const del = await t.app.inject({
        method: 'DELETE',
        url: '/api/user/avatar/',
        headers: bearer(alice.token),
      });
      expect(del.json().data.avatar_url).toBeNull();
      expect((await t.app.inject({ url })).statusCode).toBe(404);
    });
  });

  describe('password change', () => {
    it('re-wraps the key under the new password and ends every session', async () => {
      const carol = await registerUser(t.app, 'carol', 'carol old password');
      const other = await login('carol', 'carol old password');
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/api/user/password/',
        headers: bearer(carol.token),
        payload: { current_password: 'not it at all', new_password: 'carol new password' },
      });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe('WRONG_PASSWORD');
      const weak = await t.app.inject({
        method: 'POST',
        url: '/api/user/password/',
        headers: bearer(carol.token),
        payload: { current_password: 'carol old password', new_password: 'short' },
      });
      expectFieldRefused(weak, 'body.new_password');
      // Neither failure changed the password.
      await login('carol', 'carol old password');

      const res = await t.app.inject({
        method: 'POST',
        url: '/api/user/password/',
        headers: bearer(carol.token),
        payload: { current_password: 'carol old password', new_password: 'carol new password' },
      });
      expect(res.statusCode).toBe(200);
      const fresh: string = res.json().data.token;
      for (const old of [carol.token, other]) {
        expect(
          (await t.app.inject({ url: '/api/user/profile/', headers: bearer(old) })).statusCode,
        ).toBe(401);
      }
      expect(
        (await t.app.inject({ url: '/api/user/profile/', headers: bearer(fresh) })).statusCode,
      ).toBe(200);
      const oldLogin = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { username: 'carol', password: 'carol old password' },
      });
      expect(oldLogin.statusCode).toBe(401);
      // The new password unwraps the same private key: the session can still open it.
      const session = await t.ctx.sessions.resolve(
        t.ctx.database.db,
        await login('carol', 'carol new password'),
      );
      expect(session.privateKeyDer().length).toBeGreaterThan(1000);
    });
  });

  describe('recovery', () => {
    it('sets a new password with the recovery key, spends it and issues another', async () => {
      const dave = await registerUser(t.app, 'dave', 'dave forgot this');
      const keyBefore = (await t.ctx.sessions.resolve(t.ctx.database.db, dave.token)).user
        .fingerprint;
      expect(keyBefore).toMatch(/^[0-9a-f]{64}$/);
      const bad = await t.app.inject({
        method: 'POST',
        url: '/api/auth/recover/',
        payload: {
          username: 'dave',
          recovery_key: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA',
          new_password: 'dave new pass',
        },
      });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.code).toBe('INVALID_RECOVERY_KEY');
      const garbage = await t.app.inject({
        method: 'POST',
        url: '/api/auth/recover/',
        payload: { username: 'dave', recovery_key: 'nonsense', new_password: 'dave new pass' },
      });
      expect(garbage.statusCode).toBe(401);
      await login('dave', 'dave forgot this');

      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/recover/',
        payload: {
          username: 'DAVE',
          recovery_key: dave.recoveryKey.toLowerCase(),
          new_password: 'dave new pass',
        },
      });
      expect(res.statusCode).toBe(200);
      const data = res.json().data;
      expect(data.recovery_key).not.toBe(dave.recoveryKey);
      // The same key pair, unwrapped with the recovery key: the identity others know survives.
      expect(data.user.fingerprint).toBe(keyBefore);
      expect(
        (await t.app.inject({ url: '/api/user/profile/', headers: bearer(dave.token) })).statusCode,
      ).toBe(401);
      await login('dave', 'dave new pass');

      const reuse = await t.app.inject({
        method: 'POST',
        url: '/api/auth/recover/',
        payload: {
          username: 'dave',
          recovery_key: dave.recoveryKey,
          new_password: 'dave third pass',
        },
      });
      expect(reuse.statusCode).toBe(401);
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/auth/recover/',
        payload: {
          username: 'dave',
          recovery_key: data.recovery_key,
          new_password: 'dave third pass',
        },
      });
      expect(again.statusCode).toBe(200);
      const session = await t.ctx.sessions.resolve(t.ctx.database.db, again.json().data.token);
      expect(session.user.fingerprint).toBe(data.user.fingerprint);
      expect(session.privateKeyDer().length).toBeGreaterThan(1000);
    });
  });

  describe('ignored pubkeys', () => {
    it('ignores by PEM or fingerprint, lists with a cursor, and unignores', async () => {
      const erin = await registerUser(t.app);
      const bob = await t.ctx.accounts.getUserByUsername('Bob_1');
      const byPem = await t.app.inject({
        method: 'POST',
        url: '/api/user/ignored_pubkeys/',
        headers: bearer(erin.token),
        payload: { pubkey: bob.pubkey },
      });
      expect(byPem.statusCode).toBe(201);
      expect(byPem.json().data.fingerprint).toBe(bob.fingerprint);
      const aliceUser = await t.ctx.accounts.getUserByUsername('alice');
      for (let i = 0; i < 2; i++) {
        const byFingerprint = await t.app.inject({
          method: 'POST',
          url: '/api/user/ignored_pubkeys/',
          headers: bearer(erin.token),
          payload: { pubkey: aliceUser.fingerprint.toUpperCase() },
        });
        expect(byFingerprint.statusCode).toBe(201);
      }

      const first = await t.app.inject({
        url: '/api/user/ignored_pubkeys/?limit=1',
        headers: bearer(erin.token),
      });
      const page1 = first.json().data;
      expect(page1.items).toHaveLength(1);
      expect(page1.next_cursor).not.toBeNull();
      const second = await t.app.inject({
        url: `/api/user/ignored_pubkeys/?limit=1&cursor=${page1.next_cursor}`,
        headers: bearer(erin.token),
      });
      const page2 = second.json().data;
      expect(page2.items).toHaveLength(1);
      expect(page2.next_cursor).toBeNull();
      expect([page1.items[0].fingerprint, page2.items[0].fingerprint].sort()).toEqual(
        [bob.fingerprint, aliceUser.fingerprint].sort(),
      );

      // Someone else's list is their own.
      const theirs = await t.app.inject({
        url: '/api/user/ignored_pubkeys/',
        headers: bearer(alice.token),
      });
      expect(theirs.json().data.items).toEqual([]);

      const del = await t.app.inject({
        method: 'DELETE',
        url: `/api/user/ignored_pubkeys/${bob.fingerprint}/`,
        headers: bearer(erin.token),
      });
      expect(del.statusCode).toBe(200);
      const gone = await t.app.inject({
        method: 'DELETE',
        url: `/api/user/ignored_pubkeys/${bob.fingerprint}/`,
        headers: bearer(erin.token),
      });
      expect(gone.statusCode).toBe(404);
    });

    it('refuses a pubkey that is neither a key nor a fingerprint, a bad cursor and a bad limit', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/user/ignored_pubkeys/',
        headers: bearer(alice.token),
        payload: { pubkey: 'not a key' },
      });
      expectFieldRefused(res, 'body.pubkey');
      const cursor = await t.app.inject({
        url: '/api/user/ignored_pubkeys/?cursor=%%%',
        headers: bearer(alice.token),
      });
      expect(cursor.statusCode).toBe(400);
      expect(cursor.json().error.code).toBe('INVALID_CURSOR');
      const limit = await t.app.inject({
        url: '/api/user/ignored_pubkeys/?limit=101',
        headers: bearer(alice.token),
      });
      expectFieldRefused(limit, 'querystring.limit');
      const param = await t.app.inject({
        method: 'DELETE',
        url: '/api/user/ignored_pubkeys/xyz/',
        headers: bearer(alice.token),
      });
      expectFieldRefused(param, 'params.fingerprint');
    });
  });

  async function login(username: string, password: string): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username, password },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data.token as string;
  }
});
