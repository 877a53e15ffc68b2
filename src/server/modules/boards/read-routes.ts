// Read positions over HTTP: mark a thread read through a post, and ask which of some threads
// hold posts the signed-in reader has not read.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { MarkedRead, ReadPositionList, ReadPositionsQuery } from './schema.js';

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export async function readPositionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.put(
    '/api/messages/:id/read/',
    {
      schema: {
        tags: ['boards'],
        summary: "Mark this message's thread read through it (a position only moves forward)",
        params: IdParam,
        response: { 200: envelopeOf(MarkedRead) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const marked = await ctx.readPositions.markRead(session.user, request.params.id);
      return ok({ thread_id: marked.threadId, unread_count: marked.unreadCount });
    },
  );

  r.get(
    '/api/read-positions/',
    {
      schema: {
        tags: ['boards'],
        summary:
          'Of the threads named, those with posts you have not read: how many, and the first',
        querystring: ReadPositionsQuery,
        response: { 200: envelopeOf(ReadPositionList) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const unread = await ctx.readPositions.forThreads(session.user, request.query.threads);
      return ok({
        items: unread.map((u) => ({
          thread_id: u.threadId,
          unread_count: u.unreadCount,
          first_unread_id: u.firstUnreadId,
        })),
      });
    },
  );
}
