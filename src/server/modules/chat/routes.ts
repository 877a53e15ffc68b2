// Real-time over HTTP: AxonChat, applets' event buses and any realtime board, each readable by
// polling, long polling (`wait`) and SSE; presence; versioned shared room state.
import { setMaxListeners } from 'node:events';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { authenticate, authorize, optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { notFound } from '../../http/errors.js';
import { streamEvents } from '../../http/sse.js';
import { ByteCache } from '../../services/byte-cache.js';
import type { User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';
import { boardChannel } from '../boards/board.js';
import type { BoardEvent } from '../boards/messages.js';
import { presentBoard } from '../boards/routes.js';
import { BoardSchema, MessagePost } from '../boards/schema.js';
import { MAX_EVENTS_PER_READ, type EventBatch } from './service.js';

export const EventSchema = z
  .object({
    cursor: z.string().describe('resume after this event with ?after=<cursor> or Last-Event-ID'),
    id: z.string(),
    board_id: z.string(),
    subject: z.string(),
    body: z.string(),
    body_html: z.string(),
    author: z.object({
      fingerprint: z.string(),
      nickname: z.string(),
      user_id: z.string().nullable(),
      avatar_url: z.string().nullable(),
    }),
    created_at: z.string(),
    created_at_local: z
      .string()
      .describe("the time in the reader's time zone, YYYY-MM-DD HH:MM:SS"),
  })
  .meta({ id: 'Event' });

const EventBatchSchema = z.object({ events: z.array(EventSchema), next_cursor: z.string() });

const cursor = z.string().regex(/^\d{1,15}$/, 'must be a cursor from an earlier answer');
const ReadQuery = z.strictObject({
  after: cursor.optional().describe('events after this cursor; absent: the latest ones'),
  wait: z.coerce
    .number()
    .int()
    .min(0, 'must be 0 to 30')
    .max(30, 'must be 0 to 30')
    .default(0)
    .describe('seconds to wait for an event when none is there yet (long poll)'),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_PER_READ).default(50),
});
const StreamQuery = z.strictObject({
  after: cursor.optional(),
  access_token: z
    .string()
    .max(2048)
    .optional()
    .describe('for EventSource, which cannot send headers'),
});

// One formatter per time zone in use (zone names are validated on profiles, so few exist).
const formatters = new ByteCache<Intl.DateTimeFormat>({
  maxBytes: 1024 * 1024,
  ttlMs: 60 * 60 * 1000,
  sizeOf: () => 4096,
});
function localTime(ms: number, timezone: string): string {
  let format = formatters.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    formatters.set(timezone, format);
  }
  return format.format(new Date(ms));
}

type PresentedEvent = z.output<typeof EventSchema>;

// Readers woken by one event share its BoardEvent objects (ChatService reads one page for them all),
// so each event is presented once per time zone, not once per reader. Treat the results as frozen.
const presented = new WeakMap<BoardEvent, Map<string, PresentedEvent>>();

function presentEvent(e: BoardEvent, reader: User | null): PresentedEvent {
  const timezone = reader?.timezone ?? 'UTC';
  let byZone = presented.get(e);
  if (byZone === undefined) {
    byZone = new Map();
    presented.set(e, byZone);
  }
  let result = byZone.get(timezone);
  if (result === undefined) {
    result = presentEventOnce(e, timezone);
    byZone.set(timezone, result);
  }
  return result;
}

// The JSON answer to a read, per page and time zone: every long poll one event wakes gets the same
// page object from ChatService, so it is serialised once for them all, not once per waiter.
const answers = new WeakMap<readonly BoardEvent[], Map<string, Buffer>>();

function answerBytes(batch: EventBatch, reader: User | null): Buffer {
  const key = `${reader?.timezone ?? 'UTC'}|${batch.nextCursor}`;
  let byKey = answers.get(batch.events);
  if (byKey === undefined) {
    byKey = new Map();
    answers.set(batch.events, byKey);
  }
  let bytes = byKey.get(key);
  if (bytes === undefined) {
    const data: z.output<typeof EventBatchSchema> = {
      events: batch.events.map((e) => presentEvent(e, reader)),
      next_cursor: String(batch.nextCursor),
    };
    bytes = Buffer.from(JSON.stringify(ok(data)));
    byKey.set(key, bytes);
  }
  return bytes;
}

function presentEventOnce(e: BoardEvent, timezone: string): PresentedEvent {
  return {
    cursor: String(e.cursor),
    id: e.id,
    board_id: e.boardId,
    subject: e.subject,
    body: e.body,
    body_html: renderMarkdown(e.body),
    author: {
      fingerprint: e.author.fingerprint,
      nickname: e.author.nickname,
      user_id: e.author.userId,
      avatar_url:
        e.author.avatarHash === null || e.author.userId === null
          ? null
          : `/api/users/${e.author.userId}/avatar/?v=${e.author.avatarHash.slice(0, 16)}`,
    },
    created_at: new Date(e.createdAt).toISOString(),
    created_at_local: localTime(e.createdAt, timezone),
  };
}

/** The reason long polls' signals carry: given, so that aborting does not build a DOMException. */
const ENDED = new Error('the client went away or the server is closing');

/**
 * The signals of open long polls: each aborts when its client goes away, so a long poll stops
 * waiting for nobody, or when the server closes, so it answers at once instead of holding up a
 * restart. Kept in a Set rather than as listeners on one AbortSignal: adding an event listener walks
 * the listeners already there, which with a thousand waiting long polls cost each new one a
 * thousand steps.
 */
class OpenLongPolls {
  private readonly aborts = new Set<() => void>();
  private closed = false;

  signalFor(request: FastifyRequest): AbortSignal {
    const controller = new AbortController();
    const abort = () => controller.abort(ENDED);
    if (this.closed) {
      abort();
      return controller.signal;
    }
    this.aborts.add(abort);
    request.raw.once('close', () => {
      this.aborts.delete(abort);
      abort();
    });
    return controller.signal;
  }

  close(): void {
    this.closed = true;
    for (const abort of this.aborts) abort();
    this.aborts.clear();
  }
}

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export async function chatRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Long polls and event streams would hold app.close() (a restart) until they end by themselves:
  // when it begins, long polls answer what they have and streams end (clients resume by cursor).
  const closing = new AbortController();
  setMaxListeners(0, closing.signal); // one per open stream
  const longPolls = new OpenLongPolls();
  app.addHook('preClose', async () => {
    closing.abort();
    longPolls.close();
  });
  // A long poll answered then must not leave a kept-alive connection: that too holds the close up.
  const closeIfClosing = (reply: FastifyReply) => {
    if (closing.signal.aborted) void reply.header('connection', 'close');
  };

  /** Answers a read (poll or long poll) of a board's events. */
  async function answerRead(
    request: FastifyRequest,
    reply: FastifyReply,
    query: z.output<typeof ReadQuery>,
    board: () => Promise<Board>,
  ) {
    const reader = await optionalUser(ctx, request);
    // JSON bytes, sent as they are: the waiters one event wakes share one serialisation.
    const answer = (batch: EventBatch) => {
      closeIfClosing(reply);
      return reply
        .type('application/json; charset=utf-8')
        .send(answerBytes(batch, reader) as never);
    };
    const batch = await ctx.chat.read(reader, await board(), {
      ...(query.after === undefined ? {} : { after: Number(query.after) }),
      waitMs: query.wait * 1000,
      limit: query.limit,
      signal: longPolls.signalFor(request),
      // A handed-over event is answered inside its publish (see ChatService.read).
      deliver: (handed) => void answer(handed),
    });
    return reply.sent ? reply : answer(batch);
  }

  /** The read, stream and presence routes of one kind of event bus. */
  function busRoutes<P extends z.ZodType>(
    prefix: string,
    params: P,
    resolve: (params: z.output<P>) => Promise<Board>,
    tag: string,
  ) {
    r.get(
      `${prefix}read_events/`,
      {
        schema: {
          tags: [tag],
          summary:
            'Events in order after a cursor; with wait, a long poll answered the moment one exists',
          params,
          querystring: ReadQuery,
          response: { 200: envelopeOf(EventBatchSchema) },
        },
      },
      (request, reply) =>
        answerRead(request, reply, request.query, () => resolve(request.params as z.output<P>)),
    );

    r.get(
      `${prefix}events/stream/`,
      {
        schema: {
          tags: [tag],
          summary: 'The same events as Server-Sent Events, resuming after Last-Event-ID',
          params,
          querystring: StreamQuery,
        },
      },
      async (request, reply) => {
        if (
          request.headers.authorization === undefined &&
          request.query.access_token !== undefined
        ) {
          request.headers.authorization = `Bearer ${request.query.access_token}`;
        }
        const reader = await optionalUser(ctx, request);
        const board = await resolve(request.params as z.output<P>);
        // Visitors who may not read the board get a 404 before the stream opens.
        await ctx.chat.read(reader, board, { after: Number.MAX_SAFE_INTEGER, waitMs: 0, limit: 1 });
        const lastEventId = request.headers['last-event-id'];
        const from =
          typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId)
            ? lastEventId
            : request.query.after;
        await streamEvents(request, reply, ctx.hub, {
          channel: boardChannel(board.id),
          start: from === undefined ? undefined : Number(from),
          fetch: async (after) => {
            const batch = await ctx.chat.read(reader, board, {
              ...(after === undefined ? {} : { after }),
              waitMs: 0,
              limit: MAX_EVENTS_PER_READ,
            });
            return { events: batch.events, nextCursor: batch.nextCursor };
          },
          handedOver: (payload, after) => ctx.chat.handedOver(payload, after, reader),
          cursorOf: (e) => e.cursor,
          toJson: (e) => presentEvent(e, reader),
          onHeartbeat: async () => {
            if (reader !== null) await ctx.chat.touchPresence(board, reader);
          },
          stop: closing.signal,
        });
      },
    );

    r.get(
      `${prefix}presence/`,
      {
        schema: {
          tags: [tag],
          summary: 'Who is here: users seen in the room in the last minute',
          params,
          response: {
            200: envelopeOf(
              z.object({
                users: z.array(
                  z.object({
                    user_id: z.string(),
                    nickname: z.string(),
                    avatar_url: z.string().nullable(),
                    last_seen: z.string(),
                  }),
                ),
              }),
            ),
          },
        },
      },
      async (request) => {
        const reader = await optionalUser(ctx, request);
        const board = await resolve(request.params as z.output<P>);
        const users = await ctx.chat.presence(reader, board);
        return ok({
          users: users.map((u) => ({
            user_id: u.userId,
            nickname: u.nickname,
            avatar_url:
              u.avatarHash === null
                ? null
                : `/api/users/${u.userId}/avatar/?v=${u.avatarHash.slice(0, 16)}`,
            last_seen: new Date(u.lastSeen).toISOString(),
          })),
        });
      },
    );
  }

  const NoParams = z.strictObject({});
  const chatBoard = () => ctx.chat.chatBoard();
  const realtimeBoard = async ({ id }: { id: string }) => {
    const board = await ctx.boards.find(id);
    if (board === undefined || !board.isRealtime) throw notFound('realtime board');
    return board;
  };
  const appletBoard = async ({ id }: { id: string }) =>
    ctx.applets.eventBoard(await ctx.applets.get(id));

  busRoutes('/api/chat/', NoParams, chatBoard, 'chat');
  busRoutes('/api/boards/:id/', IdParam, realtimeBoard, 'chat');
  busRoutes('/api/applets/:id/', IdParam, appletBoard, 'applets');

  r.get(
    '/api/chat/events/',
    {
      schema: {
        tags: ['chat'],
        summary: 'AxonChat events (the same as /api/chat/read_events/)',
        querystring: ReadQuery,
        response: { 200: envelopeOf(EventBatchSchema) },
      },
    },
    (request, reply) => answerRead(request, reply, request.query, chatBoard),
  );

  r.get(
    '/api/chat/',
    {
      schema: {
        tags: ['chat'],
        summary: 'The AxonChat board',
        response: { 200: envelopeOf(BoardSchema) },
      },
    },
    async (request) => {
      const reader = await optionalUser(ctx, request);
      const board = await chatBoard();
      await ctx.boards.getReadable(reader, board.id);
      return ok(presentBoard(board, reader));
    },
  );

  r.post(
    '/api/chat/post/',
    {
      schema: {
        tags: ['chat'],
        summary: 'Say something in AxonChat',
        body: z.strictObject({
          text: z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .max(2000, 'must be at most 2000 characters')
            .refine(
              (v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v),
              'must not contain control characters',
            ),
        }),
        response: { 201: envelopeOf(EventSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const event = await ctx.chat.post(session, await chatBoard(), {
        subject: 'AxonChat',
        body: request.body.text,
      });
      return reply.code(201).send(ok(presentEvent(event, session.user)));
    },
  );

  r.post(
    '/api/boards/:id/post_event/',
    {
      schema: {
        tags: ['chat'],
        summary: 'Post on a realtime board',
        params: IdParam,
        body: z.strictObject({ subject: MessagePost.shape.subject, body: MessagePost.shape.body }),
        response: { 201: envelopeOf(EventSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const board = await ctx.boards.getReadable(session.user, request.params.id);
      if (!board.isRealtime) throw notFound('realtime board');
      const event = await ctx.chat.post(session, board, request.body);
      return reply.code(201).send(ok(presentEvent(event, session.user)));
    },
  );

  const AppletSchema = z
    .object({
      id: z.string(),
      name: z.string(),
      description: z.string(),
      event_board_id: z.string(),
      created_at: z.string(),
    })
    .meta({ id: 'AppletSummary' });
  const presentApplet = (a: Awaited<ReturnType<typeof ctx.applets.get>>) => ({
    id: a.id,
    name: a.name,
    description: a.description,
    event_board_id: a.eventBoardId,
    created_at: new Date(a.createdAt).toISOString(),
  });

  r.post(
    '/api/applets/',
    {
      schema: {
        tags: ['applets'],
        summary:
          'Register an applet and its event board (sysops; the applets capability adds uploads)',
        body: z.strictObject({
          name: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .regex(/^[\p{L}\p{N} _.-]+$/u, 'may hold letters, digits, space and _ . -'),
          description: z.string().trim().max(2000).default(''),
        }),
        response: { 201: envelopeOf(AppletSchema) },
      },
    },
    async (request, reply) => {
      const session = await authorize(ctx, request, 'admin');
      const applet = await ctx.applets.create({ ...request.body, ownerId: session.user.id });
      return reply.code(201).send(ok(presentApplet(applet)));
    },
  );

  r.get(
    '/api/applets/',
    {
      schema: {
        tags: ['applets'],
        summary: 'Applets',
        response: { 200: envelopeOf(z.object({ items: z.array(AppletSchema) })) },
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
        body: z.strictObject({
          subject: z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .max(100, 'must be at most 100 characters'),
          body: MessagePost.shape.body,
        }),
        response: { 201: envelopeOf(EventSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const board = await appletBoard(request.params);
      const event = await ctx.chat.post(session, board, {
        subject: request.body.subject,
        body: request.body.body,
        eventSubject: request.body.subject,
      });
      return reply.code(201).send(ok(presentEvent(event, session.user)));
    },
  );

  const RoomParam = z.strictObject({
    room_id: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'may hold letters, digits and _ . : - (at most 100)'),
  });
  const StateSchema = z
    .object({
      room_id: z.string(),
      version: z.number(),
      state: z.unknown(),
      updated_by: z.string().nullable(),
      updated_at: z.string().nullable(),
    })
    .meta({ id: 'RoomState' });
  const presentState = (s: Awaited<ReturnType<typeof ctx.roomState.get>>) => ({
    room_id: s.roomId,
    version: s.version,
    state: s.state,
    updated_by: s.updatedBy,
    updated_at: s.updatedAt === null ? null : new Date(s.updatedAt).toISOString(),
  });

  r.get(
    '/api/rooms/:room_id/shared_state/',
    {
      schema: {
        tags: ['rooms'],
        summary: "A room's shared state; with after_version and wait, waits for a newer version",
        params: RoomParam,
        querystring: z.strictObject({
          after_version: z.coerce.number().int().min(0).optional(),
          wait: ReadQuery.shape.wait,
        }),
        response: { 200: envelopeOf(StateSchema) },
      },
    },
    async (request, reply) => {
      await authenticate(ctx, request);
      const { room_id } = request.params;
      const state =
        request.query.after_version === undefined
          ? await ctx.roomState.get(room_id)
          : await ctx.roomState.waitFor(
              room_id,
              request.query.after_version,
              request.query.wait * 1000,
              longPolls.signalFor(request),
            );
      closeIfClosing(reply);
      return ok(presentState(state));
    },
  );

  r.post(
    '/api/rooms/:room_id/shared_state/',
    {
      schema: {
        tags: ['rooms'],
        summary:
          'Compare-and-set: give the version you read; 409 with the current state if it moved on',
        params: RoomParam,
        body: z.strictObject({ version: z.number().int().min(0), state: z.json() }),
        response: { 200: envelopeOf(StateSchema) },
      },
    },
    async (request) => {
      const session = await authorize(ctx, request, 'post');
      const state = await ctx.roomState.set(
        request.params.room_id,
        request.body,
        session.user.username,
      );
      return ok(presentState(state));
    },
  );
}
