// Event buses over HTTP: AxonChat, applets' buses and any realtime board, each readable by polling,
// long polling (`wait`) and SSE, with presence; posting chat lines and realtime-board events.
// Waiting (parked long polls, streams), presence and the caps on open connections are the realtime
// module's; these routes give it the chat service's reads.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { avatarUrl } from '../../../shared/accounts.js';
import type { AppContext } from '../../context.js';
import { authenticate, optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { notFound } from '../../http/errors.js';
import { streamEvents } from '../realtime/sse.js';
import type { User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';
import { presentBoard } from '../boards/present.js';
import { BoardSchema } from '../boards/schema.js';
import { handedOver, type EventBatch } from '../realtime/events.js';
import { closeIfClosing, holdOpen, sessionOf } from '../realtime/http.js';
import { streamTokens } from '../realtime/stream-tokens.js';
import { answerBytes, presentEvent } from './present.js';
import {
  BoardEventPost,
  ChatPost,
  EventBatchSchema,
  EventSchema,
  IdParam,
  PresenceSchema,
  ReadQuery,
  StreamQuery,
  StreamToken,
} from './schema.js';
import { MAX_EVENTS_PER_READ } from './service.js';

export async function chatRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Long polls and event streams would hold app.close() (a restart) until they end by themselves:
  // when it begins, long polls answer what they have and streams end (clients resume by cursor).
  app.addHook('preClose', async () => ctx.realtime.connections.close());
  const tokens = streamTokens(ctx.keys.tokenKey);

  /** A 404 for a reader who may not read the board's events (the read rule of ChatService). */
  const assertReadable = (reader: User | null, board: Board) =>
    ctx.chat.read(reader, board, { after: Number.MAX_SAFE_INTEGER, limit: 1 });

  /** Answers a read (poll or long poll) of a board's events. */
  async function answerRead(
    request: FastifyRequest,
    reply: FastifyReply,
    query: z.output<typeof ReadQuery>,
    board: () => Promise<Board>,
  ) {
    const session = await sessionOf(ctx, request);
    const reader = session?.user ?? null;
    // JSON bytes, sent as they are: the waiters one event wakes share one serialisation.
    const answer = (batch: EventBatch) => {
      closeIfClosing(ctx, reply);
      return reply
        .type('application/json; charset=utf-8')
        .send(answerBytes(ctx.realtime.eventAnswers, batch, reader) as never);
    };
    const target = await board();
    const held = query.wait > 0 ? holdOpen(ctx, request, session, target.id, 'long_poll') : null;
    try {
      const after = query.after === undefined ? undefined : Number(query.after);
      let firstRead = true;
      const batch = await ctx.realtime.longPolls.answer({
        channel: { kind: 'board', boardId: target.id },
        after,
        readerId: reader?.id ?? null,
        waitMs: query.wait * 1000,
        ...(held === null ? {} : { signal: held.signal }),
        // Only the first read marks the reader present (the presence window outlasts any wait): a
        // poll woken after its reader left must not bring them back.
        read: () => {
          const markPresent = firstRead;
          firstRead = false;
          return ctx.chat.read(reader, target, { after, limit: query.limit, markPresent });
        },
        // A handed-over event is answered inside its publish (see LongPolls).
        deliver: (handed) => void answer(handed),
      });
      return reply.sent ? reply : answer(batch);
    } finally {
      held?.release();
    }
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
        const token = request.query.stream_token;
        const params = request.params as z.output<P>;
        // The token is checked before the board is looked up: AxonChat's board is made on first
        // use, and a refused request must change nothing.
        const session =
          token === undefined
            ? await sessionOf(ctx, request)
            : await tokens.resolve(ctx.database.db, token, async () => (await resolve(params)).id);
        const board = await resolve(params);
        const reader = session?.user ?? null;
        // Visitors who may not read the board get a 404 before the stream opens.
        await assertReadable(reader, board);
        const lastEventId = request.headers['last-event-id'];
        const from =
          typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId)
            ? lastEventId
            : request.query.after;
        const held = holdOpen(ctx, request, session, board.id, 'stream');
        try {
          await streamEvents(request, reply, ctx.realtime, {
            channel: { kind: 'board', boardId: board.id },
            start: from === undefined ? undefined : Number(from),
            fetch: async (after) => {
              const batch = await ctx.chat.read(reader, board, {
                after,
                limit: MAX_EVENTS_PER_READ,
              });
              return { events: batch.events, nextCursor: batch.nextCursor };
            },
            handedOver: (payload, after) => handedOver(payload, after, reader?.id ?? null),
            cursorOf: (e) => e.cursor,
            toJson: (e) => presentEvent(e, reader),
            onHeartbeat: async () => {
              if (reader !== null) await ctx.realtime.presence.touch(board, reader);
            },
            stop: held.signal,
          });
        } finally {
          held.release();
        }
      },
    );

    r.post(
      `${prefix}events/stream_token/`,
      {
        schema: {
          tags: [tag],
          summary:
            'A five-minute token that opens this stream (?stream_token=) for EventSource, ' +
            'which cannot send headers; it ends with the session',
          params,
          response: { 200: envelopeOf(StreamToken) },
        },
      },
      async (request) => {
        const session = await authenticate(ctx, request);
        const board = await resolve(request.params as z.output<P>);
        // The stream's own read rule: no token for a board the account may not read (404).
        await assertReadable(session.user, board);
        const issued = await tokens.issue(session, board.id);
        return ok({
          stream_token: issued.token,
          expires_at: new Date(issued.expiresAt).toISOString(),
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
          response: { 200: envelopeOf(PresenceSchema) },
        },
      },
      async (request) => {
        const reader = await optionalUser(ctx, request);
        const board = await resolve(request.params as z.output<P>);
        const users = await ctx.realtime.presence.who(reader, board);
        return ok({
          users: users.map((u) => ({
            user_id: u.userId,
            nickname: u.nickname,
            avatar_url: u.userId === null ? null : avatarUrl(u.userId, u.avatarHash),
            last_seen: new Date(u.lastSeen).toISOString(),
          })),
        });
      },
    );

    r.delete(
      `${prefix}presence/`,
      {
        schema: {
          tags: [tag],
          summary: 'Leave the room: off the list of who is here at once (reading again comes back)',
          params,
          response: { 200: envelopeOf(z.object({ left: z.literal(true) })) },
        },
      },
      async (request) => {
        const session = await authenticate(ctx, request);
        const board = await resolve(request.params as z.output<P>);
        await assertReadable(session.user, board);
        await ctx.realtime.presence.leave(board, session.user);
        return ok({ left: true as const });
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
        body: ChatPost,
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
        body: BoardEventPost,
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
}
