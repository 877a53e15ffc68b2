// Accounts without JavaScript: log in, log out, register and recover, through the same account
// service, the same slowdowns and the same registration challenges as the API. A browser without
// script cannot compute the sign-up's proof of work, so here a challenge is spent by waiting as
// long as solving it would take, within a tighter per-minute limit (docs/lite.md, "Registration").
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PASSWORD_MIN } from '../../../shared/accounts.js';
import { AppError } from '../../http/errors.js';
import { AttemptCounters, AttemptThrottle } from '../../http/rate-limits.js';
import { RegistrationChallenges } from '../accounts/registration-challenge.js';
import { html, type Html } from './html.js';
import { CsrfOnly, csrfField, seeOther, type Lite } from './pages.js';
import {
  anonymousFormToken,
  checkAnonymousForm,
  clearSessionCookie,
  formSession,
  setSessionCookie,
} from './session.js';

/** Sign-ups without JavaScript a minute: this share of the instance's sign-ups, at least one. */
const WAITED_SHARE = 4;

export function accountRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;
  const { loginPerMinute, loginDelayedMax, registerPerMinute, registerPowBits } =
    ctx.config.rateLimits;
  const counters = new AttemptCounters(ctx.database);
  const throttle = new AttemptThrottle(
    { freePerMinute: loginPerMinute, maxDelayed: loginDelayedMax },
    counters,
  );
  const challenges = new RegistrationChallenges(
    ctx.keys.tokenKey,
    counters,
    registerPowBits,
    registerPerMinute,
  );
  const waitedPerMinute = Math.max(1, Math.floor(registerPerMinute / WAITED_SHARE));

  /** A refusal the reader can correct (wrong password, name taken) is shown on the form again. */
  async function orFormAgain(
    again: (error: string, status: number) => unknown,
    work: () => Promise<unknown>,
  ): Promise<unknown> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AppError && error.status < 500)
        return again(error.message, error.status);
      throw error;
    }
  }

  const Login = z.strictObject({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
    csrf: csrfField,
  });
  const loginPage = (reply: FastifyReply, token: string, error?: string, status?: number) =>
    lite.send(
      reply,
      'Log in',
      html`<h1>Log in</h1>
        ${notice(error)}
        <form method="post" action="/lite/login/">
          <input type="hidden" name="csrf" value="${token}" />
          ${field('username', 'Username', 'text', 'username')}
          ${field('password', 'Password', 'password', 'current-password')}
          <p><button type="submit">Log in</button></p>
        </form>
        <p>
          <a href="/lite/register/">Create an account</a> ·
          <a href="/lite/recover/">Forgot your password?</a>
        </p>`,
      null,
      { status },
    );

  r.get('/lite/login/', { schema: { hide: true } }, async (request, reply) =>
    loginPage(reply, anonymousFormToken(ctx, request, reply)),
  );

  r.post('/lite/login/', { schema: { hide: true, body: Login } }, async (request, reply) => {
    checkAnonymousForm(request, request.body.csrf);
    const name = request.body.username.toLowerCase();
    // The API's slow-down per account name, counted in the same table.
    await throttle.pass('login', name);
    return orFormAgain(
      (error, status) => loginPage(reply, anonymousFormToken(ctx, request, reply), error, status),
      async () => {
        const signedIn = await ctx.accounts.login({
          username: request.body.username,
          password: request.body.password,
        });
        await throttle.forgive('login', name);
        setSessionCookie(ctx, reply, signedIn.session.token, signedIn.session.expiresAt);
        return seeOther(reply, '/lite/');
      },
    );
  });

  r.post('/lite/logout/', { schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
    const session = await formSession(ctx, request, request.body.csrf);
    await ctx.accounts.logout(session);
    clearSessionCookie(ctx, reply);
    return seeOther(reply, '/lite/');
  });

  const Register = z.strictObject({
    username: z.string().max(64),
    nickname: z.string().max(200).optional(),
    password: z.string().max(1024),
    password_again: z.string().max(1024),
    challenge: z.string().max(256),
    csrf: csrfField,
  });
  /** The sign-up form, with its challenge (a fresh one unless the reader is still waiting on one). */
  async function registerPage(
    request: FastifyRequest,
    reply: FastifyReply,
    options: { error?: string; status?: number; username?: string; challenge?: string } = {},
  ) {
    const token = anonymousFormToken(ctx, request, reply);
    const challenge = options.challenge ?? (await challenges.issue()).challenge;
    const ready = challenges.readyAt(challenge);
    const seconds = Math.max(0, Math.ceil((ready - Date.now()) / 1000));
    return lite.send(
      reply,
      'Create an account',
      html`<h1>Create an account</h1>
        ${notice(options.error)}
        <p class="meta">
          To keep mass sign-ups away, the full client makes your browser compute for a moment.
          Without JavaScript, the server asks you to wait instead: this form is accepted from
          ${new Date(ready).toISOString().slice(11, 19)} UTC
          (${seconds === 0 ? 'now' : `about ${seconds} seconds after it was shown`}).
        </p>
        <form method="post" action="/lite/register/">
          <input type="hidden" name="csrf" value="${token}" />
          <input type="hidden" name="challenge" value="${challenge}" />
          ${field('username', 'Username', 'text', 'username', options.username)}
          <p>
            <label for="nickname">Nickname (optional; shown on your posts)</label><br /><input
              id="nickname"
              name="nickname"
              type="text"
              maxlength="50"
            />
          </p>
          ${field('password', 'Password', 'password', 'new-password', undefined, PASSWORD_MIN)}
          ${field('password_again', 'Password again', 'password', 'new-password', undefined, PASSWORD_MIN)}
          <p><button type="submit">Create the account</button></p>
        </form>`,
      null,
      { status: options.status },
    );
  }

  r.get('/lite/register/', { schema: { hide: true } }, async (request, reply) =>
    registerPage(request, reply),
  );

  r.post('/lite/register/', { schema: { hide: true, body: Register } }, async (request, reply) => {
    checkAnonymousForm(request, request.body.csrf);
    const { username, nickname, password, password_again, challenge } = request.body;
    /** The form again with what went wrong; `keep` the challenge when it was not spent. */
    const again = (error: string, status: number, keep?: string) =>
      registerPage(request, reply, {
        error,
        status,
        username,
        ...(keep === undefined ? {} : { challenge: keep }),
      });
    if (password !== password_again) return again('The passwords differ.', 400, challenge);
    return orFormAgain(again, async () => {
      // Sent before its wait is over: the same challenge again, nothing spent.
      if (Date.now() < challenges.readyAt(challenge))
        return again('Not yet: wait a few seconds, then send the form again.', 429, challenge);
      await challenges.spendWaited(challenge, waitedPerMinute);
      const { session, recoveryKey } = await ctx.accounts.register({
        username,
        password,
        ...(nickname?.trim() ? { nickname } : {}),
      });
      setSessionCookie(ctx, reply, session.token, session.expiresAt);
      return lite.send(reply, 'Your recovery key', recoveryKeyNotice(recoveryKey), null, {
        status: 201,
      });
    });
  });

  const Recover = z.strictObject({
    username: z.string().max(64),
    recovery_key: z.string().max(128),
    new_password: z.string().max(1024),
    csrf: csrfField,
  });
  const recoverPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    error?: string,
    status?: number,
  ) =>
    lite.send(
      reply,
      'Recover your account',
      html`<h1>Recover your account</h1>
        ${notice(error)}
        <p>Your recovery key sets a new password; you then get a new recovery key.</p>
        <form method="post" action="/lite/recover/">
          <input type="hidden" name="csrf" value="${anonymousFormToken(ctx, request, reply)}" />
          ${field('username', 'Username', 'text', 'username')}
          ${field('recovery_key', 'Recovery key', 'text', 'off')}
          ${field('new_password', 'New password', 'password', 'new-password', undefined, PASSWORD_MIN)}
          <p><button type="submit">Set the new password</button></p>
        </form>`,
      null,
      { status },
    );

  r.get('/lite/recover/', { schema: { hide: true } }, async (request, reply) =>
    recoverPage(request, reply),
  );

  r.post('/lite/recover/', { schema: { hide: true, body: Recover } }, async (request, reply) => {
    checkAnonymousForm(request, request.body.csrf);
    const name = request.body.username.toLowerCase();
    // The API's slowdown per account name for recoveries, counted in the same table.
    await throttle.pass('recovery', name);
    return orFormAgain(
      (error, status) => recoverPage(request, reply, error, status),
      async () => {
        const { session, recoveryKey } = await ctx.accounts.recover({
          username: request.body.username,
          recovery_key: request.body.recovery_key,
          new_password: request.body.new_password,
        });
        await throttle.forgive('recovery', name);
        setSessionCookie(ctx, reply, session.token, session.expiresAt);
        return lite.send(reply, 'Your recovery key', recoveryKeyNotice(recoveryKey), null);
      },
    );
  });
}

function notice(error: string | undefined): Html {
  return error === undefined ? html`` : html`<p class="notice" role="alert">${error}</p>`;
}

function field(
  name: string,
  label: string,
  type: 'text' | 'password',
  autocomplete: string,
  value?: string,
  minlength?: number,
): Html {
  return html`<p>
    <label for="${name}">${label}</label><br /><input
      id="${name}"
      name="${name}"
      type="${type}"
      autocomplete="${autocomplete}"
      value="${value ?? ''}"
      ${minlength === undefined ? '' : html`minlength="${minlength}"`}
      required
    />
  </p>`;
}

/**
 * The recovery key, shown once (the page is never stored: Cache-Control no-store), with the web
 * client's care: the reader says they saved it before going on. The checkbox has no name, so the
 * form sends nothing; the browser will not send it unticked.
 */
function recoveryKeyNotice(recoveryKey: string): Html {
  return html`<h1>Your recovery key</h1>
    <p>
      This is your <strong>recovery key</strong>. It is the only way back into your account if you
      forget your password. It is shown <strong>once</strong>: write it down or store it in a
      password manager now.
    </p>
    <pre class="notice" data-testid="recovery-key">${recoveryKey}</pre>
    <p>You are signed in.</p>
    <form method="get" action="/lite/">
      <p>
        <input id="saved" type="checkbox" required /><label for="saved"
          >I saved my recovery key</label
        >
      </p>
      <p><button type="submit">Continue</button></p>
    </form>`;
}
