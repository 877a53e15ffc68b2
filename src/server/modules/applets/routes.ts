// Applets over HTTP: registering them, posting on their event bus, and the shared state of rooms
// (an applet's rooms, or any board's). Rooms are read by the board's read rule and written by its
// post rule (key bans included). The bus's read, stream and presence routes are the chat module's.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { notFound } from '../../http/errors.js';
import { can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';
import { presentEvent } from '../chat/present.js';
import { EventSchema, IdParam } from '../chat/schema.js';
import { closeIfClosing, holdOpen, sessionOf } from '../realtime/http.js';
import type { RoomState } from './room-state.js';
import {
  AppletEventPost,
  AppletInput,
  AppletList,
  AppletSchema,
  RoomParams,
  RoomStateQuery,
  RoomStateSchema,
  RoomStateWrite,
} from './schema.js';
import type { Applet } from './service.js';

const presentApplet = (a: Applet): z.output<typeof AppletSchema> => ({
  id: a.id,
  name: a.name,
  description: a.description,
  event_board_id: a.eventBoardId,
  created_at: new Date(a.createdAt).toISOString(),
});

const presentState = (s: RoomState): z.output<typeof RoomStateSchema> => ({
  room_id: s.roomId,
  version: s.version,
  state: s.state,
  updated_by: s.updatedBy,
  updated_at: s.updatedAt === null ? null : new Date(s.updatedAt).toISOString(),
});

export async function appletRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const appletBoard = async (id: string) => ctx.applets.eventBoard(await ctx.applets.get(id));

  r.post(
    '/api/applets/',
    {
      schema: {
        tags: ['applets'],
        summary:
          'Register an applet and its event board (sysops; the applets capability adds uploads)',
        body: AppletInput,
        response: { 201: envelopeOf(AppletSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const applet = await ctx.applets.create(
        { ...request.body, ownerId: session.user.id },
        session.user,
      );
      return reply.code(201).send(ok(presentApplet(applet)));
    },
  );

  r.get(
    '/api/applets/',
    {
      schema: {
        tags: ['applets'],
        summary: 'Applets',
        response: { 200: envelopeOf(AppletList) },
      },
    },
    async () => ok({ items: (await ctx.applets.list()).map(presentApplet) }),
  );

  r.get(
    '/api/applets/:id/',
    {
      schema: {
        tags: ['applets'],
        summary: 'One applet',
        params: IdParam,
        response: { 200: envelopeOf(AppletSchema) },
      },
    },
    async (request) => ok(presentApplet(await ctx.applets.get(request.params.id))),
  );

  r.post(
    '/api/applets/:id/post_event/',
    {
      schema: {
        tags: ['applets'],
        summary: "Post an event on the applet's event bus",
        params: IdParam,
        body: AppletEventPost,
        response: { 201: envelopeOf(EventSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const board = await appletBoard(request.params.id);
      const event = await ctx.chat.post(session, board, {
        subject: request.body.subject,
        body: request.body.body,
        eventSubject: request.body.subject,
      });
      return reply.code(201).send(ok(presentEvent(event, session.user)));
    },
  );

  /** A room's board, if the reader may read it (404 otherwise, so hidden boards stay hidden). */
  const readable = (board: Board, reader: User | null): Board => {
    if (!can(reader, 'read_board', { board })) throw notFound('room');
    return board;
  };

  /** The shared-state routes of the rooms of one kind of board. */
  function roomRoutes(prefix: string, boardOf: (id: string) => Promise<Board>, tag: string) {
    r.get(
      `${prefix}rooms/:room_id/shared_state/`,
      {
        schema: {
          tags: [tag],
          summary: "A room's shared state; with after_version and wait, waits for a newer version",
          params: RoomParams,
          querystring: RoomStateQuery,
          response: { 200: envelopeOf(RoomStateSchema) },
        },
      },
      async (request, reply) => {
        const session = await sessionOf(ctx, request);
        const board = readable(await boardOf(request.params.id), session?.user ?? null);
        const { room_id } = request.params;
        const { after_version, wait } = request.query;
        if (after_version === undefined)
          return ok(presentState(await ctx.roomState.get(board, room_id)));
        const held = wait > 0 ? holdOpen(ctx, request, session, board.id, 'long_poll') : null;
        try {
          const state = await ctx.roomState.waitFor(
            board,
            room_id,
            after_version,
            wait * 1000,
            held?.signal,
          );
          closeIfClosing(ctx, reply);
          return ok(presentState(state));
        } finally {
          held?.release();
        }
      },
    );

    r.post(
      `${prefix}rooms/:room_id/shared_state/`,
      {
        schema: {
          tags: [tag],
          summary:
            'Compare-and-set: give the version you read; 409 with the current state if it moved on',
          params: RoomParams,
          body: RoomStateWrite,
          response: { 200: envelopeOf(RoomStateSchema) },
        },
      },
      async (request) => {
        const session = await authenticate(ctx, request);
        const board = readable(await boardOf(request.params.id), session.user);
        await ctx.messages.assertMayPostOn(session.user, board);
        const state = await ctx.roomState.set(
          board,
          request.params.room_id,
          request.body,
          session.user.username,
        );
        return ok(presentState(state));
      },
    );
  }

  roomRoutes('/api/applets/:id/', appletBoard, 'applets');
  const anyBoard = async (id: string) => {
    const board = await ctx.boards.find(id);
    if (board === undefined) throw notFound('room');
    return board;
  };
  roomRoutes('/api/boards/:id/', anyBoard, 'rooms');
}
