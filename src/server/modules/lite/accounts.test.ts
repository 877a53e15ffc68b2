// Accounts without JavaScript on SQLite and PostgreSQL: a sign-up whose challenge is spent by
// waiting (never before its wait, once only, within its own per-minute limit), the recovery key
// shown once, recovery with it, and forms without their CSRF token changing nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptCounters } from '../../http/rate-limits.js';
import {
  RegistrationChallenges,
  waitMs,
  CHALLENGE_LIFETIME_MS,
} from '../accounts/registration-challenge.js';
import { countRows, startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const PASSWORD = 'correct horse battery';

describe.each(DIALECTS)('lite accounts on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(() => t.close());

  /** A form page's anonymous CSRF cookie and token, and its hidden fields. */
  async function openForm(url: string) {
    const page = await t.app.inject({ url });
    expect(page.statusCode).toBe(200);
    const line = String([page.headers['set-cookie']].flat()[0]);
    const token = line.slice('axon_lite_form='.length, line.indexOf(';'));
    const hidden = (name: string) =>
      new RegExp(`name="${name}" value="([^"]*)"`).exec(page.body)?.[1] ?? '';
    return { cookie: `axon_lite_form=${token}`, csrf: hidden('csrf'), hidden, body: page.body };
  }
  const post = (url: string, cookie: string, fields: Record<string, string>) =>
    t.app.inject({ method: 'POST', url, headers: { ...FORM, cookie }, payload: form(fields) });
  const sessionCookie = (headers: Record<string, unknown>) =>
    [headers['set-cookie'] ?? []]
      .flat()
      .map(String)
      .find((line) => line.startsWith('axon_lite='));
  const recoveryKeyOf = (body: string) =>
    /data-testid="recovery-key">([^<]+)</.exec(body)![1]!.trim();

  it('registers by waiting, shows the recovery key once, and spends the challenge once', async () => {
    const opened = await openForm('/lite/register/');
    const fields = {
      username: 'lite_signup',
      password: PASSWORD,
      password_again: PASSWORD,
      challenge: opened.hidden('challenge'),
    };
    const users = await countRows(t, 'users');
    for (const csrf of [undefined, 'wrong']) {
      const refused = await post('/lite/register/', opened.cookie, {
        ...fields,
        ...(csrf === undefined ? {} : { csrf }),
      });
      expect(refused.statusCode).toBe(403);
    }
    const differ = await post('/lite/register/', opened.cookie, {
      ...fields,
      password_again: 'something else entirely',
      csrf: opened.csrf,
    });
    expect(differ.statusCode).toBe(400);
    expect(differ.body).toContain('The passwords differ.');
    expect(differ.body).toContain(`value="${fields.challenge}"`);
    expect(await countRows(t, 'users')).toBe(users);

    const created = await post('/lite/register/', opened.cookie, { ...fields, csrf: opened.csrf });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const recoveryKey = recoveryKeyOf(created.body);
    expect(created.body).toContain('I saved my recovery key');
    const cookie = sessionCookie(created.headers)!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const home = await t.app.inject({
      url: '/lite/',
      headers: { cookie: cookie.slice(0, cookie.indexOf(';')) },
    });
    expect(home.body).toContain('lite_signup');
    expect(home.body).not.toContain(recoveryKey);

    // The same challenge again: refused, shown on a fresh form, no account made.
    const replay = await post('/lite/register/', opened.cookie, {
      ...fields,
      username: 'lite_replay',
      csrf: opened.csrf,
    });
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('used already');
    expect(await countRows(t, 'users')).toBe(users + 1);

    // Recovery with the key shown: a new password, a new key, a session.
    const recover = await openForm('/lite/recover/');
    const wrong = await post('/lite/recover/', recover.cookie, {
      username: 'lite_signup',
      recovery_key: 'not-the-key',
      new_password: 'another long password',
      csrf: recover.csrf,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('role="alert"');
    const recovered = await post('/lite/recover/', recover.cookie, {
      username: 'lite_signup',
      recovery_key: recoveryKey,
      new_password: 'another long password',
      csrf: recover.csrf,
    });
    expect(recovered.statusCode).toBe(200);
    expect(recoveryKeyOf(recovered.body)).not.toBe(recoveryKey);
    expect(sessionCookie(recovered.headers)).toBeDefined();
    const login = await openForm('/lite/login/');
    const signedIn = await post('/lite/login/', login.cookie, {
      username: 'lite_signup',
      password: 'another long password',
      csrf: login.csrf,
    });
    expect(signedIn.statusCode).toBe(303);
  });

  it('takes a waited challenge only once its wait is over, and fewer of them a minute', async () => {
    const challenges = new RegistrationChallenges(
      t.ctx.keys.tokenKey,
      new AttemptCounters(t.ctx.database),
      16,
      1000,
    );
    const now = Date.now();
    const issued = await challenges.issue(now);
    expect(waitMs(16)).toBe(2000);
    expect(waitMs(32)).toBe(CHALLENGE_LIFETIME_MS / 2);
    expect(challenges.readyAt(issued.challenge, now)).toBe(now + waitMs(issued.difficulty));
    await expect(challenges.spendWaited(issued.challenge, 1000, now + 1000)).rejects.toMatchObject({
      code: 'CHALLENGE_INVALID',
    });
    await challenges.spendWaited(issued.challenge, 1000, now + waitMs(issued.difficulty));
    // The waited limit: one a minute here, and the second is refused.
    const second = await challenges.issue(now);
    await expect(
      challenges.spendWaited(second.challenge, 1, now + waitMs(second.difficulty)),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
