// Moderation over HTTP (foundation part): user bans and instance-wide pubkey bans.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authorize } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { forbidden } from '../../http/errors.js';
import { FingerprintParam, PageQuery, Profile } from '../accounts/schema.js';
import { toProfile } from '../accounts/routes.js';
import type { BannedPubkey } from './banned-pubkeys.js';

const reason = z.string().trim().min(1, 'must not be empty').max(500);
const durationSeconds = z
  .number()
  .int()
  .min(60, 'must be at least 60 seconds')
  .max(100 * 365 * 24 * 3600)
  .nullable()
  .default(null)
  .describe('How long the ban lasts; null or absent bans for good');

const BannedPubkeySchema = z
  .object({
    fingerprint: z.string(),
    pubkey: z.string().nullable(),
    reason: z.string(),
    banned_by: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'BannedPubkey' });

const presentBan = (b: BannedPubkey): z.output<typeof BannedPubkeySchema> => ({
  fingerprint: b.fingerprint,
  pubkey: b.pubkey,
  reason: b.reason,
  banned_by: b.bannedBy,
  created_at: new Date(b.createdAt).toISOString(),
  expires_at: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
});

const until = (seconds: number | null) => (seconds === null ? null : Date.now() + seconds * 1000);

export async function moderationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const UsernameParam = z.strictObject({ username: z.string().min(1).max(32) });

  r.post(
    '/api/moderation/users/:username/ban/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Ban a user for a time or for good; their sessions end at once',
        params: UsernameParam,
        body: z.strictObject({ reason, duration_seconds: durationSeconds }),
        response: {
          200: envelopeOf(
            Profile.extend({ is_banned: z.boolean(), banned_until: z.string().nullable() }),
          ),
        },
      },
    },
    async (request) => {
      const session = await authorize(ctx, request, 'moderate');
      const target = await ctx.accounts.getUserByUsername(request.params.username);
      if (target.id === session.user.id) throw forbidden('you cannot ban yourself');
      if (target.isSysop && !session.user.isSysop) throw forbidden('only a sysop can ban a sysop');
      const banned = await ctx.accounts.ban(target.username, {
        reason: request.body.reason,
        until: until(request.body.duration_seconds),
      });
      return ok({
        ...toProfile(banned),
        is_banned: banned.isBanned,
        banned_until:
          banned.bannedUntil === null ? null : new Date(banned.bannedUntil).toISOString(),
      });
    },
  );

  r.post(
    '/api/moderation/users/:username/unban/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Lift a user ban',
        params: UsernameParam,
        response: { 200: envelopeOf(Profile) },
      },
    },
    async (request) => {
      await authorize(ctx, request, 'moderate');
      return ok(toProfile(await ctx.accounts.unban(request.params.username)));
    },
  );

  r.get(
    '/api/moderation/banned_pubkeys/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Pubkeys banned on this instance',
        querystring: PageQuery,
        response: {
          200: envelopeOf(
            z.object({ items: z.array(BannedPubkeySchema), next_cursor: z.string().nullable() }),
          ),
        },
      },
    },
    async (request) => {
      await authorize(ctx, request, 'moderate');
      const page = await ctx.bannedPubkeys.list(request.query);
      return ok({ items: page.items.map(presentBan), next_cursor: page.next_cursor });
    },
  );

  r.post(
    '/api/moderation/banned_pubkeys/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Ban a pubkey instance-wide (its content is refused, here and from peers)',
        body: z.strictObject({
          pubkey: z.string().min(1).max(4096),
          reason,
          duration_seconds: durationSeconds,
        }),
        response: { 201: envelopeOf(BannedPubkeySchema) },
      },
    },
    async (request, reply) => {
      const session = await authorize(ctx, request, 'moderate');
      const ban = await ctx.bannedPubkeys.ban({
        pubkey: request.body.pubkey,
        reason: request.body.reason,
        expiresAt: until(request.body.duration_seconds),
        bannedBy: session.user.id,
      });
      return reply.code(201).send(ok(presentBan(ban)));
    },
  );

  r.delete(
    '/api/moderation/banned_pubkeys/:fingerprint/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Lift a pubkey ban',
        params: FingerprintParam,
        response: { 200: envelopeOf(z.object({ unbanned: z.string() })) },
      },
    },
    async (request) => {
      await authorize(ctx, request, 'moderate');
      await ctx.bannedPubkeys.unban(request.params.fingerprint);
      return ok({ unbanned: request.params.fingerprint });
    },
  );
}
