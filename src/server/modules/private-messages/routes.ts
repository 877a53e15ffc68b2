// Private messages over HTTP: send, inbox and outbox, read, delete.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AttachmentRef, MessagePost } from '../boards/schema.js';
import type { PrivateMessage } from './service.js';

export const PrivateMessageSchema = z
  .object({
    id: z.string(),
    from: z.object({
      fingerprint: z.string(),
      nickname: z.string(),
      user_id: z.string().nullable(),
    }),
    to: z.object({ fingerprint: z.string(), user_id: z.string().nullable() }),
    subject: z.string(),
    body: z.string(),
    body_html: z.string(),
    attachments: z.array(AttachmentRef),
    created_at: z.string(),
    read_at: z.string().nullable(),
    signature_valid: z.boolean(),
    readable: z.boolean().describe('false: the stored message is damaged and cannot be opened'),
  })
  .meta({ id: 'PrivateMessage' });

function present(pm: PrivateMessage): z.output<typeof PrivateMessageSchema> {
  return {
    id: pm.id,
    from: { fingerprint: pm.from.fingerprint, nickname: pm.from.nickname, user_id: pm.from.userId },
    to: { fingerprint: pm.to.fingerprint, user_id: pm.to.userId },
    subject: pm.subject,
    body: pm.body,
    body_html: renderMarkdown(pm.body),
    attachments: pm.attachments,
    created_at: new Date(pm.createdAt).toISOString(),
    read_at: pm.readAt === null ? null : new Date(pm.readAt).toISOString(),
    signature_valid: pm.signatureValid,
    readable: pm.readable,
  };
}

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export async function privateMessageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/private_messages/',
    {
      schema: {
        tags: ['private messages'],
        summary:
          'Send a private message to a user (username or key fingerprint), sealed for both of you',
        body: z.strictObject({
          to: z.string().trim().min(1).max(64),
          subject: MessagePost.shape.subject,
          body: MessagePost.shape.body,
          attachments: MessagePost.shape.attachments,
        }),
        response: { 201: envelopeOf(PrivateMessageSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      return reply
        .code(201)
        .send(ok(present(await ctx.privateMessages.send(session, request.body))));
    },
  );

  r.get(
    '/api/private_messages/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Your inbox or outbox, newest first',
        querystring: z.strictObject({
          box: z.enum(['inbox', 'outbox']).default('inbox'),
          cursor: z.string().max(512).optional(),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
        response: {
          200: envelopeOf(
            z.object({
              items: z.array(PrivateMessageSchema),
              next_cursor: z.string().nullable(),
              unread: z.number(),
            }),
          ),
        },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const { box, ...query } = request.query;
      const page = await ctx.privateMessages.list(session, box, query);
      return ok({
        items: page.items.map(present),
        next_cursor: page.next_cursor,
        unread: await ctx.privateMessages.unreadCount(session.user.id),
      });
    },
  );

  r.get(
    '/api/private_messages/:id/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Read one (marks it read for the recipient)',
        params: IdParam,
        response: { 200: envelopeOf(PrivateMessageSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(present(await ctx.privateMessages.read(session, request.params.id)));
    },
  );

  r.delete(
    '/api/private_messages/:id/',
    {
      schema: {
        tags: ['private messages'],
        summary: 'Remove it from your box',
        params: IdParam,
        response: { 200: envelopeOf(z.object({ deleted: z.string() })) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      await ctx.privateMessages.delete(session, request.params.id);
      return ok({ deleted: request.params.id });
    },
  );
}
