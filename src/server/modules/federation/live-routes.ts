// Live rooms' routes for peers (signed): a room write forwarded (or relayed) to the room's home, and a peer's
// report of its users present in a shared room. Events and room versions travel through the log.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { presentState } from '../applets/routes.js';
import { RoomStateSchema } from '../applets/schema.js';
import { registerSignedRoute } from './inbound.js';
import {
  PRESENCE_PATH,
  PRESENCE_REPORT_MAX,
  ROOM_WRITE_PATH,
  ROOM_WRITE_RELAYS_MAX,
} from './live-rooms.js';

const RoomWrite = z.strictObject({
  // Checked as a federated object (schema, author signature) by the service.
  object: z.unknown(),
  // How many instances relayed it toward the home already (absent: none, the writer's sent it).
  relays: z.number().int().min(1).max(ROOM_WRITE_RELAYS_MAX).optional(),
});

const PresenceReport = z.strictObject({
  room: z.string().min(1).max(128),
  users: z
    .array(
      z.strictObject({
        fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
        nickname: z.string().min(1).max(50),
      }),
    )
    .max(PRESENCE_REPORT_MAX),
});

export function liveRoutes(app: FastifyInstance, ctx: AppContext): void {
  registerSignedRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: ROOM_WRITE_PATH,
      body: RoomWrite,
      bodyLimit: 256 * 1024,
      schema: {
        tags: ['federation'],
        summary:
          "A user's room-state write, forwarded to the room's home: compare-and-set on version there",
        response: { 200: envelopeOf(RoomStateSchema) },
      },
    },
    async ({ peer, body }) =>
      ok(presentState(await ctx.liveRooms.forwardedWrite(peer, body.object, body.relays ?? 0))),
  );

  registerSignedRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: PRESENCE_PATH,
      body: PresenceReport,
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['federation'],
        summary: "A peer's users seen in a shared room (shown here as nickname@peer for a minute)",
        response: { 200: envelopeOf(z.object({ received: z.number() })) },
      },
    },
    async ({ peer, body }) => {
      await ctx.liveRooms.receivePresence(peer, body);
      return ok({ received: body.users.length });
    },
  );
}
