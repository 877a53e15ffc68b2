// Applets over HTTP: registering them, posting on their event bus, and the shared state of rooms
// (an applet's rooms, or any board's). Rooms are read by the board's read rule and written by its
// post rule (key bans included). The bus's read, stream and presence routes are the chat module's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate, optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { fieldError, notFound } from '../../http/errors.js';
import { assertCan, can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';
import { presentEvent } from '../chat/present.js';
import { EventSchema, IdParam } from '../chat/schema.js';
import { closeIfClosing, holdOpen, sessionOf } from '../realtime/http.js';
import type { RoomState } from './room-state.js';
import {
  AppletDataSchema,
  AppletDataWrite,
  AppletEventPost,
  HighScoreList,
  HighScoreSchema,
  ScoreInput,
  ScoreParams,
  AppletInput,
  AppletList,
  AppletListQuery,
  AppletReview,
  AppletSchema,
  RoomParams,
  RoomStateQuery,
  RoomStateSchema,
  RoomStateWrite,
} from './schema.js';
import type { Applet } from './service.js';
import { FRAME_CSP, FRAME_HTML } from './frame.js';
import { APPLET_DATA_MAX_BYTES, SCORE_INTERVAL_MS, type HighScore } from './data.js';

const presentApplet = (a: Applet): z.output<typeof AppletSchema> => ({
  id: a.id,
  name: a.name,
  description: a.description,
  event_board_id: a.eventBoardId,
  created_at: new Date(a.createdAt).toISOString(),
  author_pubkey: a.authorPubkey,
  author_username: a.authorUsername,
  code_manifest: a.codeHash === null ? null : { content_hash: a.codeHash, size: a.codeSize },
  category_name: a.categoryName,
  parameters: a.parameters,
  is_debug_mode: a.isDebugMode,
  handles_mime_types: a.handlesMimeTypes,
  status: a.status,
  review_reason: a.reviewReason,
  reviewed_at: a.reviewedAt === null ? null : new Date(a.reviewedAt).toISOString(),
});

const presentScore = (s: HighScore): z.output<typeof HighScoreSchema> => ({
  id: s.id,
  nickname: s.nickname,
  pubkey: s.pubkey,
  score: s.score,
  wins: s.wins,
  losses: s.losses,
  draws: s.draws,
  level: s.level,
  updated_at: new Date(s.updatedAt).toISOString(),
  self_reported: true,
});

/** The largest applet code the instance runs (asset packages are attachments of their own). */
export const APPLET_CODE_MAX_BYTES = 2 * 1024 * 1024;

export const presentState = (s: RoomState): z.output<typeof RoomStateSchema> => ({
  room_id: s.roomId,
  version: s.version,
  state: s.state,
  updated_by: s.updatedBy,
  updated_at: s.updatedAt === null ? null : new Date(s.updatedAt).toISOString(),
});

export async function appletRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const authenticatedUser = async (request: FastifyRequest) =>
    (await authenticate(ctx, request)).user;
  // An applet's event bus, rooms, data and scores are there once it is approved.
  const approved = async (id: string) => {
    const applet = await ctx.applets.get(id);
    if (applet.status !== 'approved') throw notFound('applet');
    return applet;
  };
  const appletBoard = async (id: string) => ctx.applets.eventBoard(await approved(id));

  /** The applet, if `user` may see it: approved ones by all; others by their owner and approvers. */
  const visible = async (id: string, user: User | null): Promise<Applet> => {
    const applet = await ctx.applets.get(id);
    if (
      applet.status !== 'approved' &&
      !(user !== null && (applet.ownerId === user.id || can(user, 'approve_applet')))
    )
      throw notFound('applet');
    return applet;
  };

  r.post(
    '/api/applets/',
    {
      schema: {
        tags: ['applets'],
        summary:
          "Upload an applet (the upload right and enough karma); a sysop's is approved at once, " +
          "anyone else's waits for a moderator's or sysop's approval",
        body: AppletInput,
        response: { 201: envelopeOf(AppletSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      assertCan(session.user, 'upload_applet');
      const body = request.body;
      let codeSize: number | null = null;
      if (body.code_hash !== undefined) {
        // The code is content this account may read (its own upload), and small enough to run.
        const { manifest } = await ctx.content.readable(session.user, body.code_hash).catch(() => {
          throw fieldError('body.code_hash', 'is no content you uploaded');
        });
        if (manifest.size > APPLET_CODE_MAX_BYTES)
          throw fieldError(
            'body.code_hash',
            `the code must be at most ${APPLET_CODE_MAX_BYTES} bytes`,
          );
        codeSize = manifest.size;
      }
      const asset = body.parameters.asset_package_hash as string | undefined;
      if (asset !== undefined)
        // Served to everyone who runs the applet once it is approved: it must be the uploader's.
        await ctx.content.readable(session.user, asset).catch(() => {
          throw fieldError('body.parameters.asset_package_hash', 'is no content you uploaded');
        });
      const applet = await ctx.applets.create(
        {
          name: body.name,
          description: body.description,
          ownerId: session.user.id,
          codeHash: body.code_hash ?? null,
          parameters: body.parameters as Record<string, unknown>,
          isDebugMode: body.is_debug_mode,
          handlesMimeTypes: body.handles_mime_types,
          categoryName: body.category_name ?? null,
          codeSize,
          assetHash: asset ?? null,
          status: can(session.user, 'approve_applet') ? 'approved' : 'pending',
        },
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
        summary: 'Approved applets; pending or rejected ones for those who approve applets',
        querystring: AppletListQuery,
        response: { 200: envelopeOf(AppletList) },
      },
    },
    async (request) => {
      const { status } = request.query;
      if (status !== 'approved') assertCan(await authenticatedUser(request), 'approve_applet');
      return ok({ items: (await ctx.applets.list(status)).map(presentApplet) });
    },
  );

  r.get(
    '/api/applets/:id/',
    {
      schema: {
        tags: ['applets'],
        summary: 'One applet (a pending one: its owner and those who approve applets)',
        params: IdParam,
        response: { 200: envelopeOf(AppletSchema) },
      },
    },
    async (request) =>
      ok(presentApplet(await visible(request.params.id, await optionalUser(ctx, request)))),
  );

  r.post(
    '/api/applets/:id/review/',
    {
      schema: {
        tags: ['applets'],
        summary: 'Approve or reject an applet, with a reason (moderators and sysops)',
        params: IdParam,
        body: AppletReview,
        response: { 200: envelopeOf(AppletSchema) },
      },
    },
    async (request) => {
      const user = await authenticatedUser(request);
      const { status, reason } = request.body;
      return ok(
        presentApplet(await ctx.applets.setStatus(request.params.id, status, reason, user)),
      );
    },
  );

  r.get(
    '/api/applets/:id/code/',
    {
      schema: {
        tags: ['applets'],
        summary:
          "The applet's code, exactly the bytes whose SHA-256 is its code_manifest.content_hash " +
          '(the runner checks that before it runs anything)',
        params: IdParam,
      },
    },
    async (request, reply) => {
      const applet = await visible(request.params.id, await optionalUser(ctx, request));
      if (applet.codeHash === null) throw notFound('applet code');
      const manifest = await ctx.content.manifest(applet.codeHash);
      if (manifest === undefined) throw notFound('applet code');
      const parts: Buffer[] = [];
      for await (const part of await ctx.content.open(manifest)) parts.push(part as Buffer);
      return reply
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Disposition', 'attachment; filename="applet.js"')
        .type('application/octet-stream')
        .send(Buffer.concat(parts));
    },
  );

  r.get(
    '/applet-frame/',
    {
      schema: {
        tags: ['applets'],
        summary:
          'The sandboxed document applets run in: no network, scripts only from the code the ' +
          'host verified and hands it',
      },
    },
    async (_request, reply) =>
      reply
        .header('Content-Security-Policy', FRAME_CSP)
        .header('X-Frame-Options', 'SAMEORIGIN')
        .header('Cache-Control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(FRAME_HTML),
  );

  r.get(
    '/api/applets/:id/data/',
    {
      schema: {
        tags: ['applets'],
        summary: "The caller's own data for the applet (each user reads only their own)",
        params: IdParam,
        response: { 200: envelopeOf(AppletDataSchema) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const { data, updatedAt } = await ctx.appletData.get(await approved(request.params.id), user);
      return ok({
        data,
        updated_at: updatedAt === null ? null : new Date(updatedAt).toISOString(),
      });
    },
  );

  r.put(
    '/api/applets/:id/data/',
    {
      schema: {
        tags: ['applets'],
        summary: `Replaces the caller's data for the applet (JSON, at most ${APPLET_DATA_MAX_BYTES} bytes)`,
        params: IdParam,
        body: AppletDataWrite,
        response: { 200: envelopeOf(AppletDataSchema) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const applet = await approved(request.params.id);
      const { updatedAt } = await ctx.appletData.save(applet, user, request.body.data);
      return ok({ data: request.body.data, updated_at: new Date(updatedAt).toISOString() });
    },
  );

  r.get(
    '/api/applets/:id/high_scores/',
    {
      schema: {
        tags: ['applets'],
        summary: 'The best scores (self-reported by the applet)',
        params: IdParam,
        response: { 200: envelopeOf(HighScoreList) },
      },
    },
    async (request) => {
      const applet = await approved(request.params.id);
      readable(await ctx.applets.eventBoard(applet), await optionalUser(ctx, request));
      const scores = await ctx.appletData.highScores(applet);
      return ok({ items: scores.map(presentScore) });
    },
  );

  r.post(
    '/api/applets/:id/high_scores/',
    {
      schema: {
        tags: ['applets'],
        summary: `Submits the caller's score (one every ${SCORE_INTERVAL_MS / 1000} seconds; the best stays)`,
        params: IdParam,
        body: ScoreInput,
        response: { 200: envelopeOf(HighScoreSchema) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const applet = await approved(request.params.id);
      await ctx.messages.assertMayPostOn(user, await ctx.applets.eventBoard(applet));
      return ok(presentScore(await ctx.appletData.submitScore(applet, user, request.body)));
    },
  );

  r.delete(
    '/api/applets/:id/high_scores/:entry_id/',
    {
      schema: {
        tags: ['applets'],
        summary: 'Removes a high-score entry (moderators)',
        params: ScoreParams,
        response: { 200: envelopeOf(z.object({ removed: z.boolean() })) },
      },
    },
    async (request) => {
      assertCan(await authenticatedUser(request), 'moderate');
      const applet = await ctx.applets.get(request.params.id);
      if (!(await ctx.appletData.removeScore(applet, request.params.entry_id)))
        throw notFound('high score');
      return ok({ removed: true });
    },
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
        // A shared room's write is decided by the room's home (federation/live-rooms.ts).
        const state = await ctx.liveRooms.write(
          session,
          board,
          request.params.room_id,
          request.body,
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
