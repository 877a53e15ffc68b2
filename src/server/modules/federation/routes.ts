// Federation endpoints (foundation part): the instance identity peers fetch before trusting us.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { keyChangeRoutes } from './key-change-routes.js';
import { liveRoutes } from './live-routes.js';
import { logRoutes } from './log-routes.js';
import { peerRoutes } from './peer-routes.js';
import { remoteAuthorRoutes } from './remote-author-routes.js';
import { InstanceIdentity } from './schema.js';
import { chunkRoutes } from './chunk-routes.js';
import { transportRoutes } from './transport-routes.js';
import { actionRoutes } from './action-routes.js';
import { configRoutes } from './config-routes.js';

export async function federationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/federation/identity/',
    {
      schema: {
        tags: ['federation'],
        summary: "This instance's public key and fingerprint (DESIGN.md §7)",
        response: { 200: envelopeOf(InstanceIdentity) },
      },
    },
    async () =>
      ok({
        pubkey: ctx.identity.pubkey,
        fingerprint: ctx.identity.fingerprint,
        nickname: ctx.identity.nickname,
        base_url: ctx.config.publicUrl ?? null,
      }),
  );
  transportRoutes(app, ctx);
  chunkRoutes(app, ctx);
  logRoutes(app, ctx);
  actionRoutes(app, ctx);
  configRoutes(app, ctx);
  keyChangeRoutes(app, ctx);
  remoteAuthorRoutes(app, ctx);
  liveRoutes(app, ctx);
  await peerRoutes(app, ctx);
}
