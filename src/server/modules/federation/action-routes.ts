// Federated moderation for local moderators: the actions peers sent (applied, refused or
// reversed, each with the peer it came from), the reversal of an applied one, and a correction of
// a remote author's profile, which goes to the peers as an action of its own.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { pageOf } from '../../http/pagination.js';
import { PageQuery } from '../accounts/schema.js';
import { IdParam } from '../moderation/schema.js';
import type { FederatedActionView } from './actions.js';
import {
  ActionSchema,
  ProfileCorrectionBody,
  ProfileCorrectionSchema,
  ReverseBody,
} from './schema.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const present = (a: FederatedActionView): z.output<typeof ActionSchema> => ({
  id: a.id,
  peer: a.peer,
  moderator: a.moderator,
  kind: a.kind,
  target: a.target,
  reason: a.reason,
  status: a.status,
  refusal: a.refusal,
  reversed_by: a.reversedBy,
  reversed_at: iso(a.reversedAt),
  created_at: iso(a.createdAt)!,
});

export function actionRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/moderation/federated_actions/',
    {
      schema: {
        tags: ['moderation'],
        summary: 'Moderation actions peers sent, newest first: applied, refused or reversed',
        querystring: PageQuery,
        response: { 200: envelopeOf(pageOf(ActionSchema)) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.federatedActions.list(session.user, request.query);
      return ok({ items: page.items.map(present), next_cursor: page.next_cursor });
    },
  );

  r.post(
    '/api/moderation/federated_actions/:id/reverse/',
    {
      schema: {
        tags: ['moderation'],
        summary: "Undo here what a peer's applied action changed (the peer is not told)",
        params: IdParam,
        body: ReverseBody.optional(),
        response: { 200: envelopeOf(ActionSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const reason = request.body?.reason ?? 'reversed here';
      return ok(
        present(await ctx.federatedActions.reverse(session.user, request.params.id, reason)),
      );
    },
  );

  r.post(
    '/api/moderation/profile_corrections/',
    {
      schema: {
        tags: ['moderation'],
        summary:
          "Correct a remote author's nickname (and drop their avatar) here; peers that trust this instance for moderation apply it too",
        body: ProfileCorrectionBody,
        response: {
          200: envelopeOf(ProfileCorrectionSchema),
        },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const body = request.body;
      await ctx.federatedActions.correctProfile(session.user, session.privateKey(), {
        fingerprint: body.fingerprint,
        nickname: body.nickname,
        clearAvatar: body.clear_avatar,
        reason: body.reason,
      });
      return ok({
        fingerprint: body.fingerprint,
        nickname: body.nickname,
        clear_avatar: body.clear_avatar,
      });
    },
  );
}
