// POST /api/federation/key_change/: a peer's notice that its key changed, in a request signed by
// the NEW key (which nobody here trusts yet) and itself signed by the old and the new key. A valid
// notice from a trusted peer's old key holds the new key as pending; a sysop accepts it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError } from '../../http/errors.js';
import { registerAnyKeyRoute } from './inbound.js';
import {
  checkKeyChangeNotice,
  KEY_CHANGE_BODY_LIMIT,
  KEY_CHANGE_PATH,
  KeyChangeNotice,
} from './key-change.js';

export function keyChangeRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerAnyKeyRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: KEY_CHANGE_PATH,
      body: KeyChangeNotice,
      bodyLimit: KEY_CHANGE_BODY_LIMIT,
      schema: {
        tags: ['federation'],
        summary:
          "A peer's key-change notice (signed by its old and new keys, sent with the new one): held until a sysop accepts it",
        response: { 200: envelopeOf(z.object({ pending_fingerprint: z.string() })) },
      },
    },
    async ({ signer, body }) => {
      const checked = checkKeyChangeNotice(body);
      if (!checked.ok) {
        throw new AppError(401, 'FEDERATION_SIGNATURE', `key-change notice: ${checked.reason}`);
      }
      if (checked.change.fingerprint !== signer.fingerprint) {
        throw new AppError(
          401,
          'FEDERATION_SIGNATURE',
          'key-change notice: the request is not signed by the new key it announces',
        );
      }
      await ctx.peers.holdKeyChange(checked.change);
      return ok({ pending_fingerprint: checked.change.fingerprint });
    },
  );
}
