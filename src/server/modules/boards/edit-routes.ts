// Editing a message and reading its versions over HTTP (edits.ts). Thin: validate → authorize →
// service → present.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { mapPage } from '../../http/pagination.js';
import { MessageEditInput, MessageVersionPage, VersionPageQuery } from './edit-schema.js';
import { presentMessage } from './present.js';
import { MessageSchema } from './schema.js';

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export async function editRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.patch(
    '/api/messages/:id/',
    {
      schema: {
        tags: ['boards'],
        summary:
          'Edit your own message: a new version signed with your key; earlier ones stay in its history',
        params: IdParam,
        body: MessageEditInput,
        response: { 200: envelopeOf(MessageSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(presentMessage(await ctx.edits.edit(session, request.params.id, request.body)));
    },
  );

  r.get(
    '/api/messages/:id/versions/',
    {
      schema: {
        tags: ['boards'],
        summary: 'Every version of a message, oldest first (its author and moderators)',
        params: IdParam,
        querystring: VersionPageQuery,
        response: { 200: envelopeOf(MessageVersionPage) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const page = await ctx.edits.history(session.user, request.params.id, request.query);
      return ok(
        mapPage(page, (v) => ({
          version: v.version,
          subject: v.subject,
          body: v.body,
          body_html: renderMarkdown(v.body),
          created_at: new Date(v.createdAt).toISOString(),
          signature_valid: v.signatureValid,
          current: v.current,
        })),
      );
    },
  );
}
