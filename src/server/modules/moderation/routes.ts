// Moderation over HTTP (foundation part): user bans and instance-wide pubkey bans.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { mapPage, pageOf } from '../../http/pagination.js';
import { FingerprintParam, PageQuery, Profile } from '../accounts/schema.js';
import { toProfile } from '../accounts/present.js';
import type { User } from '../accounts/user.js';
import type { BannedPubkey } from './banned-pubkeys.js';
import { listModlog, type Actor } from './modlog.js';
import type { Report } from './reports.js';
import {
  BannedPubkeySchema,
  BulkResolution,
  BulkResolveBody,
  BannedUser,
  IdParam,
  KarmaBody,
  ModlogSchema,
  PubkeyBanBody,
  ReportBody,
  ReportQuery,
  ReportSchema,
  ResolveBody,
  UserBanBody,
  UsernameParam,
} from './schema.js';

const presentBan = (b: BannedPubkey): z.output<typeof BannedPubkeySchema> => ({
  fingerprint: b.fingerprint,
  pubkey: b.pubkey,
  reason: b.reason,
  banned_by: b.bannedBy,
  created_at: new Date(b.createdAt).toISOString(),
  expires_at: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
});

const actorOf = (user: User): Actor => ({ id: user.id, name: user.username });

const until = (seconds: number | null) => (seconds === null ? null : Date.now() + seconds * 1000);

export async function moderationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/moderation/users/:username/ban/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Ban a user for a time or for good; their sessions end at once',
        params: UsernameParam,
        body: UserBanBody,
        response: { 200: envelopeOf(BannedUser) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const banned = await ctx.accounts.ban(request.params.username, {
        reason: request.body.reason,
        until: until(request.body.duration_seconds),
        actor: actorOf(session.user),
        by: session.user,
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
      const session = await authenticate(ctx, request);
      return ok(
        toProfile(
          await ctx.accounts.unban(request.params.username, actorOf(session.user), session.user),
        ),
      );
    },
  );

  r.get(
    '/api/moderation/banned_pubkeys/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Pubkeys banned on this instance',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(BannedPubkeySchema)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.bannedPubkeys.list(request.query, session.user);
      return ok(mapPage(page, presentBan));
    },
  );

  r.post(
    '/api/moderation/banned_pubkeys/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Ban a pubkey instance-wide (its content is refused, here and from peers)',
        body: PubkeyBanBody,
        response: { 201: envelopeOf(BannedPubkeySchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const ban = await ctx.bannedPubkeys.ban({
        pubkey: request.body.pubkey,
        reason: request.body.reason,
        expiresAt: until(request.body.duration_seconds),
        actor: actorOf(session.user),
        by: session.user,
        key: session.privateKey(),
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
      const session = await authenticate(ctx, request);
      await ctx.bannedPubkeys.unban(
        request.params.fingerprint,
        actorOf(session.user),
        session.user,
        session.privateKey(),
      );
      return ok({ unbanned: request.params.fingerprint });
    },
  );

  r.post(
    '/api/moderation/users/:username/karma/',
    {
      schema: {
        tags: ['moderation'],
        summary: "Adjust a user's karma (negative to take away)",
        params: UsernameParam,
        body: KarmaBody,
        response: { 200: envelopeOf(Profile) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const user = await ctx.accounts.adjustKarma(request.params.username, {
        delta: request.body.delta,
        reason: request.body.reason,
        actor: actorOf(session.user),
        by: session.user,
      });
      return ok(toProfile(user));
    },
  );

  r.post(
    '/api/messages/:id/report/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Report a message to the moderators',
        params: IdParam,
        body: ReportBody,
        response: { 201: envelopeOf(ReportSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const report = await ctx.reports.report(session.user, request.params.id, request.body.reason);
      return reply.code(201).send(ok(presentReport(report)));
    },
  );

  r.get(
    '/api/moderation/reports/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'The report queue (open reports, oldest first, by default)',
        querystring: ReportQuery,
        response: { 200: envelopeOf(pageOf(ReportSchema)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.reports.list(session.user, request.query);
      return ok(mapPage(page, presentReport));
    },
  );

  r.post(
    '/api/moderation/reports/:id/resolve/',
    {
      schema: {
        tags: ['moderation'],
        summary:
          'Uphold (crediting the reporters with karma, optionally deleting the message) or dismiss',
        params: IdParam,
        body: ResolveBody,
        response: { 200: envelopeOf(ReportSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const report = await ctx.reports.resolve(
        session.user,
        request.params.id,
        {
          action: request.body.action,
          deleteMessage: request.body.delete_message,
          note: request.body.note,
        },
        session.privateKey(),
      );
      return ok(presentReport(report));
    },
  );

  r.post(
    '/api/moderation/reports/resolve/',
    {
      schema: {
        tags: ['moderation'],
        summary:
          'Resolve several reports at once, as one by one; closed or unknown ones are skipped and named',
        body: BulkResolveBody,
        response: { 200: envelopeOf(BulkResolution) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const { resolved, skipped } = await ctx.reports.resolveMany(
        session.user,
        request.body.report_ids,
        {
          action: request.body.action,
          deleteMessage: request.body.delete_message,
          note: request.body.note,
        },
        session.privateKey(),
      );
      return ok({ resolved: resolved.map(presentReport), skipped });
    },
  );

  r.get(
    '/api/moderation/log/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'The moderation log, newest first',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(ModlogSchema)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await listModlog(ctx.database, request.query, session.user);
      return ok(
        mapPage(page, (e) => ({
          id: e.id,
          actor: e.actor,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          reason: e.reason,
          details: e.details,
          created_at: new Date(e.createdAt).toISOString(),
        })),
      );
    },
  );
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentReport(r: Report): z.output<typeof ReportSchema> {
  return {
    id: r.id,
    message_id: r.messageId,
    board_id: r.boardId,
    reporter_id: r.reporterId,
    reason: r.reason,
    snapshot: r.snapshot,
    status: r.status,
    resolved_by: r.resolvedBy,
    resolution_note: r.resolutionNote,
    resolved_at: iso(r.resolvedAt),
    message_exists: r.messageExists,
    created_at: new Date(r.createdAt).toISOString(),
    reporter: r.reporter === null ? null : { id: r.reporterId, ...r.reporter },
    author_username: r.authorUsername,
  };
}
