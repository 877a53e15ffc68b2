// People over HTTP: a user's public profile by key fingerprint, and who is online in the rooms.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.js';
import { optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { FingerprintParam, OnlineList, PersonProfile } from './schema.js';

export async function peopleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/people/online/',
    {
      schema: {
        tags: ['people'],
        summary:
          "Who's online: people seen lately in the realtime rooms you may read, each with those rooms (at most 100)",
        response: { 200: envelopeOf(OnlineList) },
      },
    },
    async (request) => ok(await ctx.people.online(await optionalUser(ctx, request))),
  );

  r.get(
    '/api/people/:fingerprint/',
    {
      schema: {
        tags: ['people'],
        summary:
          "A user's public profile by key fingerprint: nickname, avatar, join date, post count and recent posts on boards you may read",
        params: FingerprintParam,
        response: { 200: envelopeOf(PersonProfile) },
      },
    },
    async (request) =>
      ok(await ctx.people.profile(await optionalUser(ctx, request), request.params.fingerprint)),
  );
}
