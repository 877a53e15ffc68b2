// Configuration export and import over HTTP: trusted peers fetch the export with a signed request
// (what `axon clone` does), sysops fetch it and import a document through the normal API.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { CONFIG_MAX_BYTES, ConfigDocument } from './config.js';
import { registerSignedRoute } from './inbound.js';

const Counts = z.object({ created: z.number(), updated: z.number(), unchanged: z.number() });
const ImportAnswer = z.object({
  boards: Counts,
  applets: Counts,
  settings_differ: z.array(z.string()),
});

export function configRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/federation/export_config/',
      schema: {
        tags: ['federation'],
        summary:
          "This instance's boards, approved applets (with their code) and settings, for a trusted peer",
        response: { 200: envelopeOf(ConfigDocument) },
      },
    },
    async () => ok(await ctx.configTransfer.export()),
  );

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/admin/export_config/',
    {
      schema: {
        tags: ['admin'],
        summary: 'The configuration document (boards, approved applets, settings), for sysops',
        response: { 200: envelopeOf(ConfigDocument) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(await ctx.configTransfer.export(session.user));
    },
  );

  r.post(
    '/api/federation/import_config/',
    {
      bodyLimit: CONFIG_MAX_BYTES,
      schema: {
        tags: ['federation'],
        summary:
          'Apply a configuration document (sysops): boards and applets by name, created or updated; idempotent',
        body: ConfigDocument,
        response: { 200: envelopeOf(ImportAnswer) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(await ctx.configTransfer.import(request.body, session.user));
    },
  );
}
