// The signed transport's own route: GET /api/federation/ping/, which peers call to probe health.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { registerSignedRoute } from './inbound.js';

export const Pong = z
  .object({
    fingerprint: z.string(),
    nickname: z.string(),
    /** This server's clock, Unix milliseconds: the caller can tell how far apart the clocks are. */
    time: z.number(),
  })
  .meta({ id: 'Pong' });

export function transportRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/federation/ping/',
      schema: {
        tags: ['federation'],
        summary: 'A signed probe: answers a trusted peer with this instance’s key and clock',
        response: { 200: envelopeOf(Pong) },
      },
    },
    async () =>
      ok({
        fingerprint: ctx.identity.fingerprint,
        nickname: ctx.identity.nickname,
        time: Date.now(),
      }),
  );
}
