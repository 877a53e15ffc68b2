// Accounts over HTTP: register, login, logout, recover, profile, password, avatar, ignore list.
// Thin: validate → authorize → call the service → present.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AVATAR_MAX_BYTES, AVATAR_TYPES } from '../../../shared/accounts.js';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError } from '../../http/errors.js';
import { pageOf } from '../../http/pagination.js';
import { AttemptCounters, AttemptThrottle } from '../../http/rate-limits.js';
import { RegistrationChallenges } from './registration-challenge.js';
import {
  FingerprintParam,
  IgnoredPubkey,
  LoginBody,
  PageQuery,
  PasswordChangeBody,
  Profile,
  ProfilePatch,
  PubkeyInput,
  RecoverAnswer,
  RecoverBody,
  RegisterAnswer,
  RegisterChallenge,
  RegisterRequest,
  SessionAnswer,
} from './schema.js';
import type { IssuedSession } from './sessions.js';
import type { User } from './user.js';
import { toProfile } from './present.js';

const sessionAnswer = (user: User, session: IssuedSession) => ({
  token: session.token,
  expires_at: new Date(session.expiresAt).toISOString(),
  user: toProfile(user),
});

/** The account name a login or recovery is for, as the slowdown keys it. */
const accountNameOf = (request: FastifyRequest) =>
  String((request.body as { username?: unknown } | undefined)?.username ?? '').toLowerCase();

export async function accountRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { loginPerMinute, registerPerMinute, loginDelayedMax, registerPowBits } =
    ctx.config.rateLimits;
  // Every limit here counts in the database, so all processes of an instance share it.
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
  /** Login and recovery are slowed down per account name past the free attempts, never refused. */
  const slowedDown = (action: string) => ({
    preHandler: async (request: FastifyRequest) => throttle.pass(action, accountNameOf(request)),
  });

  r.get(
    '/api/auth/register/challenge/',
    {
      schema: {
        tags: ['auth'],
        summary:
          'A proof-of-work challenge for one sign-up (ten minutes); harder the more sign-ups ' +
          'the last minute saw',
        response: { 200: envelopeOf(RegisterChallenge) },
      },
    },
    async (_request, reply) => {
      const issued = await challenges.issue();
      void reply.header('Cache-Control', 'no-store');
      return ok({
        challenge: issued.challenge,
        difficulty: issued.difficulty,
        expires_at: new Date(issued.expiresAt).toISOString(),
      });
    },
  );

  r.post(
    '/api/auth/register/',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Create an account with a solved challenge; the answer carries the recovery key, shown once',
        body: RegisterRequest,
        response: { 201: envelopeOf(RegisterAnswer) },
      },
    },
    async (request, reply) => {
      const { challenge, solution, ...account } = request.body;
      // Checked and spent before the key generation and the Argon2 run it would unlock.
      await challenges.spend(challenge, solution);
      const { user, session, recoveryKey } = await ctx.accounts.register(account);
      return reply
        .code(201)
        .send(ok({ ...sessionAnswer(user, session), recovery_key: recoveryKey }));
    },
  );

  r.post(
    '/api/auth/login/',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with username and password',
        body: LoginBody,
        response: { 200: envelopeOf(SessionAnswer) },
      },
      ...slowedDown('login'),
    },
    async (request) => {
      const { user, session } = await ctx.accounts.login(request.body);
      await throttle.forgive('login', accountNameOf(request));
      return ok(sessionAnswer(user, session));
    },
  );

  r.post(
    '/api/auth/logout/',
    {
      schema: {
        tags: ['auth'],
        summary: 'End this session',
        response: { 200: envelopeOf(z.object({ logged_out: z.literal(true) })) },
      },
    },
    async (request) => {
      await ctx.accounts.logout(await authenticate(ctx, request));
      return ok({ logged_out: true as const });
    },
  );

  r.post(
    '/api/auth/recover/',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Set a new password with the recovery key; a new recovery key replaces the old one',
        body: RecoverBody,
        response: { 200: envelopeOf(RecoverAnswer) },
      },
      ...slowedDown('recovery'),
    },
    async (request) => {
      const { user, session, recoveryKey } = await ctx.accounts.recover(request.body);
      await throttle.forgive('recovery', accountNameOf(request));
      return ok({ ...sessionAnswer(user, session), recovery_key: recoveryKey });
    },
  );

  r.get(
    '/api/user/profile/',
    { schema: { tags: ['user'], summary: 'Your profile', response: { 200: envelopeOf(Profile) } } },
    async (request) => ok(toProfile((await authenticate(ctx, request)).user)),
  );

  r.patch(
    '/api/user/profile/',
    {
      schema: {
        tags: ['user'],
        summary: 'Change nickname or time zone',
        body: ProfilePatch,
        response: { 200: envelopeOf(Profile) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(
        toProfile(
          await ctx.accounts.updateProfile(session.user.id, request.body, session.privateKey()),
        ),
      );
    },
  );

  r.post(
    '/api/user/password/',
    {
      schema: {
        tags: ['user'],
        summary: 'Change the password; every session ends and a new token is returned',
        body: PasswordChangeBody,
        response: { 200: envelopeOf(z.object({ token: z.string(), expires_at: z.string() })) },
      },
    },
    async (request) => {
      // Only a valid session reaches the password check, so a made-up token costs no Argon2 run;
      // each account has one budget, whatever its sessions and the process that answers.
      const session = await authenticate(ctx, request);
      await counters.limit(
        `password-change:${session.user.id}`,
        loginPerMinute,
        'password changes for this account',
      );
      const issued = await ctx.accounts.changePassword(session, request.body);
      return ok({ token: issued.token, expires_at: new Date(issued.expiresAt).toISOString() });
    },
  );

  // The avatar route alone accepts image bodies: content-type parsers are scoped to this plugin.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      AVATAR_TYPES,
      { parseAs: 'buffer', bodyLimit: AVATAR_MAX_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.withTypeProvider<ZodTypeProvider>().put(
      '/api/user/avatar/',
      {
        schema: {
          tags: ['user'],
          summary: 'Set the avatar: the raw image as the body (PNG, JPEG, GIF or WebP, ≤ 512 KiB)',
          consumes: AVATAR_TYPES,
          response: { 200: envelopeOf(Profile) },
        },
      },
      async (request) => {
        const session = await authenticate(ctx, request);
        if (!Buffer.isBuffer(request.body)) {
          throw new AppError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `send the image with Content-Type ${AVATAR_TYPES.join(', ')}`,
          );
        }
        return ok(
          toProfile(await ctx.accounts.setAvatar(session.user, request.body, session.privateKey())),
        );
      },
    );
  });

  r.delete(
    '/api/user/avatar/',
    {
      schema: {
        tags: ['user'],
        summary: 'Remove the avatar',
        response: { 200: envelopeOf(Profile) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(toProfile(await ctx.accounts.clearAvatar(session.user.id, session.privateKey())));
    },
  );

  r.get(
    '/api/users/:id/avatar/',
    {
      schema: {
        tags: ['user'],
        summary: "A user's avatar image",
        params: z.strictObject({ id: z.string().max(64) }),
      },
    },
    async (request, reply) => {
      const avatar = await ctx.accounts.getAvatar(request.params.id);
      return reply
        .type(avatar.mime)
        .header('Content-Disposition', 'inline; filename="avatar"')
        .header('Cache-Control', 'public, max-age=86400')
        .header('ETag', `"${avatar.hash}"`)
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .send(avatar.bytes);
    },
  );

  r.get(
    '/api/user/ignored_pubkeys/',
    {
      schema: {
        tags: ['user'],
        summary: 'Pubkeys you ignore',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(IgnoredPubkey)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.ignoredPubkeys.list(session.user.id, request.query);
      return ok({
        items: page.items.map((i) => ({
          fingerprint: i.fingerprint,
          created_at: new Date(i.createdAt).toISOString(),
        })),
        next_cursor: page.next_cursor,
      });
    },
  );

  r.post(
    '/api/user/ignored_pubkeys/',
    {
      schema: {
        tags: ['user'],
        summary: "Ignore a pubkey: its author's messages vanish from your lists",
        body: PubkeyInput,
        response: { 201: envelopeOf(IgnoredPubkey) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const ignored = await ctx.ignoredPubkeys.ignore(session.user.id, request.body.pubkey);
      return reply.code(201).send(
        ok({
          fingerprint: ignored.fingerprint,
          created_at: new Date(ignored.createdAt).toISOString(),
        }),
      );
    },
  );

  r.delete(
    '/api/user/ignored_pubkeys/:fingerprint/',
    {
      schema: {
        tags: ['user'],
        summary: 'Stop ignoring a pubkey',
        params: FingerprintParam,
        response: { 200: envelopeOf(z.object({ unignored: z.string() })) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      await ctx.ignoredPubkeys.unignore(session.user.id, request.params.fingerprint);
      return ok({ unignored: request.params.fingerprint });
    },
  );
}
