// Content for peers (DESIGN.md §7): GET /api/federation/chunks/<chunk hash> answers a raw blob and
// POST /api/federation/rekey/ an envelope for the asking peer, both signed, both only for content
// on a board shared with that peer (chunks.ts holds the rule).
import { WorkBudget } from '../../work-budget.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError } from '../../http/errors.js';
import { parseRange } from '../../http/range.js';
import { chunkForPeer, rekeyForPeer } from './chunks.js';
import { registerSignedRoute } from './inbound.js';

const hexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

export const RekeyRequest = z.strictObject({ content_hash: hexSha256 });
export const RekeyAnswer = z
  .object({ manifest: z.record(z.string(), z.unknown()) })
  .meta({ id: 'RekeyAnswer' });

/**
 * Blobs read into memory at once for peers (each at most 512 KiB + 28, read whole so the answer
 * can be signed): 16 in flight and 64 waiting bound a flood from a trusted but broken peer at about
 * 8 MiB; past that it is told 503 SERVER_BUSY, and its fetcher backs off.
 */
const BLOBS_IN_FLIGHT = { running: 16, waiting: 64 };

export function chunkRoutes(app: FastifyInstance, ctx: AppContext): void {
  const serving = new WorkBudget(
    BLOBS_IN_FLIGHT,
    'this instance is serving other blobs to peers; retry shortly',
  );
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
      const body = await serving.run(async () => {
        const parts: Buffer[] = [];
        for await (const part of chunk.open(range)) parts.push(part as Buffer);
        return Buffer.concat(parts);
      });
      if (range !== undefined)
        void reply
          .code(206)
          .header('Content-Range', `bytes ${range.start}-${range.end}/${chunk.size}`);
      // Which blobs went to which peer: the request line names only the route's pattern.
      request.log.info({ chunk: hash, peer: signed.peer.fingerprint.slice(0, 16) }, 'chunk served');
      return reply.send(body);
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
