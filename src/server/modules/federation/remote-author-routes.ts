// Remote authors for readers: GET /api/remote_authors/{fingerprint}/ and their avatar.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.js';
import { optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { FingerprintParam, RemoteAuthor } from './schema.js';

export function remoteAuthorRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/remote_authors/:fingerprint/',
    {
      schema: {
        tags: ['federation'],
        summary:
          'A remote author (an identity of another instance) whose messages the reader may see here',
        params: FingerprintParam,
        response: { 200: envelopeOf(RemoteAuthor) },
      },
    },
    async (request) =>
      ok(await ctx.remoteAuthors.get(await optionalUser(ctx, request), request.params.fingerprint)),
  );

  r.get(
    '/api/remote_authors/:fingerprint/avatar/',
    {
      schema: {
        tags: ['federation'],
        summary: "A remote author's avatar, as their latest signed profile carried it",
        params: FingerprintParam,
      },
    },
    async (request, reply) => {
      const avatar = await ctx.remoteAuthors.avatar(
        await optionalUser(ctx, request),
        request.params.fingerprint,
      );
      return reply
        .type(avatar.mime)
        .header('Content-Disposition', 'inline; filename="avatar"')
        .header('Cache-Control', 'private, max-age=3600')
        .header('ETag', `"${avatar.hash}"`)
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .send(avatar.bytes);
    },
  );
}
