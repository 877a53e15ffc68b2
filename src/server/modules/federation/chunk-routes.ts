// Content for peers (DESIGN.md §7): GET /api/federation/chunks/<chunk hash> answers a raw blob and
// POST /api/federation/rekey/ an envelope for the asking peer, both signed, both only for content
// on a board shared with that peer (chunks.ts holds the rule).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError } from '../../http/errors.js';
import { parseRange } from '../content/routes.js';
import { chunkForPeer, rekeyForPeer } from './chunks.js';
import { registerSignedRoute } from './inbound.js';

const hexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

export const RekeyRequest = z.strictObject({ content_hash: hexSha256 });
export const RekeyAnswer = z
  .object({ manifest: z.record(z.string(), z.unknown()) })
  .meta({ id: 'RekeyAnswer' });

export function chunkRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/federation/chunks/:hash',
      schema: {
        tags: ['federation'],
        summary:
          'A raw BitSync blob, for a peer the content is shared with (a board listing it); honours Range',
        params: z.strictObject({ hash: z.string().max(128) }),
      },
    },
    async (signed, request, reply) => {
      const { hash } = request.params as { hash: string };
      const chunk = await chunkForPeer(ctx, signed.peer, hash);
      // The answer is signed over its bytes, so a blob (at most 512 KiB + 28) is read whole first.
      const range = parseRange(request.headers.range, chunk.size);
      void reply
        .header('Accept-Ranges', 'bytes')
        .header('Cache-Control', 'no-store')
        .type('application/octet-stream');
      if (range === 'unsatisfiable') {
        void reply.header('Content-Range', `bytes */${chunk.size}`);
        throw new AppError(416, 'RANGE_NOT_SATISFIABLE', `the blob is ${chunk.size} bytes long`);
      }
      const parts: Buffer[] = [];
      for await (const part of chunk.open(range)) parts.push(part as Buffer);
      if (range !== undefined)
        void reply
          .code(206)
          .header('Content-Range', `bytes ${range.start}-${range.end}/${chunk.size}`);
      return reply.send(Buffer.concat(parts));
    },
  );

  registerSignedRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/api/federation/rekey/',
      body: RekeyRequest,
      bodyLimit: 1024,
      schema: {
        tags: ['federation'],
        summary:
          "Adds an envelope for the asking peer's key to content shared with it (every envelope kept); answers the manifest",
        response: { 200: envelopeOf(RekeyAnswer) },
      },
    },
    async (signed) =>
      ok({ manifest: await rekeyForPeer(ctx, signed.peer, signed.body.content_hash) }),
  );
}
