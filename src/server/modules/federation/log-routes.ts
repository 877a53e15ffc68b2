// The log's routes for peers (signed, DESIGN.md §7): POST /api/federation/inbox/ takes a batch of
// objects and answers per object; GET /api/federation/sync/ hands out the entries after a cursor.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { ANSWER_LIMIT } from './delivery.js';
import { registerSignedRoute } from './inbound.js';
import { RoutingSchema } from './inbox.js';
import { syncPage } from './sync.js';

/** Objects in one inbox batch or one sync page, at most. */
export const BATCH_MAX_OBJECTS = 500;

const InboxBody = z.strictObject({
  // Each object is checked on its own (a bad one is refused, the others still apply).
  objects: z.array(z.unknown()).min(1).max(BATCH_MAX_OBJECTS),
  manifests: z.record(z.string().regex(/^[0-9a-f]{64}$/), z.unknown()).optional(),
  // What the sender vouches for beside each object: origin instance, room (docs/federation.md).
  routing: RoutingSchema.optional(),
  // Where the batch sits in the sender's log (its cursors): batches sent together apply in order.
  position: z
    .strictObject({ after: z.string().regex(/^\d{1,15}$/), last: z.string().regex(/^\d{1,15}$/) })
    .optional(),
});

const ObjectResult = z.object({
  id: z.string(),
  status: z.enum(['accepted', 'duplicate', 'refused']),
  reason: z.string().optional(),
});

const SyncQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a cursor this instance gave out')
    .default('0'),
  limit: z.coerce.number().int().min(1).max(BATCH_MAX_OBJECTS).default(100),
});

export function logRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/api/federation/inbox/',
      body: InboxBody,
      // A peer's inbox requests are read and applied a few at a time; the rest wait unread.
      enter: (peer) => ctx.inbox.limits.enter(peer.fingerprint),
      schema: {
        tags: ['federation'],
        summary:
          'A batch of signed objects from a peer; the answer says, per object, what became of it',
        response: { 200: envelopeOf(z.object({ results: z.array(ObjectResult) })) },
      },
    },
    async ({ peer, body }) => {
      // Past the peer's objects per minute: 429, nothing applied; the sender backs off.
      await ctx.inbox.limits.admit(peer, body.objects.length);
      return ok({
        results: await ctx.inbox.applyBatch(
          peer,
          { objects: body.objects, manifests: body.manifests, routing: body.routing },
          body.position && {
            after: Number(body.position.after),
            last: Number(body.position.last),
          },
        ),
      });
    },
  );

  registerSignedRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/federation/sync/',
      schema: {
        tags: ['federation'],
        summary: 'The log entries after the cursor that the asking peer may see (pull)',
        querystring: SyncQuery,
        response: {
          200: envelopeOf(
            z.object({
              objects: z.array(z.record(z.string(), z.unknown())),
              manifests: z.record(z.string(), z.unknown()),
              routing: z.record(
                z.string(),
                z.object({ origin: z.string().optional(), room: z.string().optional() }),
              ),
              next_cursor: z.string(),
            }),
          ),
        },
      },
    },
    async ({ peer }, request) => {
      const query = request.query as z.output<typeof SyncQuery>;
      return ok(
        await syncPage(ctx.database.db, ctx.federationLog, peer.fingerprint, Number(query.cursor), {
          limit: query.limit,
          // Leaves room for the envelope within what the asking client reads.
          maxBytes: ANSWER_LIMIT / 2,
        }),
      );
    },
  );
}
