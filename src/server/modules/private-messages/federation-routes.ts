// The signed routes peers call for private messages between instances (docs/federation.md,
// "Private messages"): a local user's public key, and the delivery of a sealed, signed message.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError } from '../../http/errors.js';
import { registerSignedRoute } from '../federation/inbound.js';
import {
  PM_BODY_LIMIT,
  PrivateMessageObject,
  receivePrivateMessage,
  RemoteUserKey,
} from './remote.js';

const NameParam = z.strictObject({ name: z.string().min(1).max(64) });

export function remotePrivateMessageRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'GET',
      url: '/api/federation/users/:name/key/',
      schema: {
        tags: ['federation'],
        summary: "A local user's public key, by username or key fingerprint (for sealing a letter)",
        params: NameParam,
        response: { 200: envelopeOf(RemoteUserKey) },
      },
    },
    async (_signed, request) => {
      const { name } = request.params as z.output<typeof NameParam>;
      const value = name.toLowerCase();
      const user = await ctx.database.db
        .selectFrom('users')
        .select(['username', 'nickname', 'pubkey', 'fingerprint'])
        .where(/^[0-9a-f]{64}$/.test(value) ? 'fingerprint' : 'username_lower', '=', value)
        .executeTakeFirst();
      if (user === undefined) {
        throw new AppError(404, 'NOT_FOUND', `no user "${name}" lives on this instance`);
      }
      return ok(user);
    },
  );

  registerSignedRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/api/federation/private_messages/',
      body: PrivateMessageObject,
      bodyLimit: PM_BODY_LIMIT,
      schema: {
        tags: ['federation'],
        summary:
          'A private message for a user of this instance, sealed and signed by its sender on the calling peer',
        response: {
          200: envelopeOf(z.object({ id: z.string(), status: z.literal('duplicate') })),
          201: envelopeOf(z.object({ id: z.string(), status: z.literal('accepted') })),
        },
      },
    },
    async ({ peer, body }, _request, reply) => {
      const result = await receivePrivateMessage(ctx.database, ctx.realtime, peer, body);
      return reply.code(result.status === 'accepted' ? 201 : 200).send(ok(result));
    },
  );
}
