// Boards, messages and search over HTTP. Thin: validate → authorize → service → present.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate, optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { mapPage, toBoundedPage, type Page } from '../../http/pagination.js';
import type { Message } from './messages.js';
import { presentActivity, presentBoard, presentInPage, presentMessage } from './present.js';
import { boardActivity } from './activity.js';
import { boardListLength, pageOf, threadPosition } from './thread-pages.js';
import { fieldError } from '../../http/errors.js';
import {
  BoardInput,
  BoardList,
  BoardPatch,
  BoardSchema,
  DeletedMessage,
  MessagePage,
  MessagePageQuery,
  MessagePost,
  MessageSchema,
  SearchPage,
  SearchQuery,
  ThreadPage,
  ThreadPageQuery,
} from './schema.js';

/**
 * The most JSON one page of a thread carries. A message with a full 64 KiB body and its rendered
 * HTML is under 0.5 MiB, so a page holds at least two of the largest and the whole response,
 * with the requested message, stays under 1.5 MiB.
 */
const THREAD_PAGE_BYTES = 1024 * 1024;

/** A page of a board's messages as the JSON bytes of its answer (page_count: a numbered page). */
function pageBytes(result: Page<Message>, pageCount?: number): Buffer {
  const page = mapPage(result, presentInPage);
  return Buffer.from(
    JSON.stringify(ok(pageCount === undefined ? page : { ...page, page_count: pageCount })),
  );
}

const DAY_MS = 24 * 60 * 60 * 1000;

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export async function boardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/boards/',
    {
      schema: {
        tags: ['boards'],
        summary: 'Boards you may read, in display order',
        querystring: z.strictObject({
          include_archived: z
            .enum(['true', 'false'])
            .default('false')
            .transform((v) => v === 'true'),
        }),
        response: { 200: envelopeOf(BoardList) },
      },
    },
    async (request) => {
      const viewer = await optionalUser(ctx, request);
      const boards = await ctx.boards.list(viewer, request.query.include_archived);
      const ids = boards.map((b) => b.id);
      const activity = await boardActivity(ctx.database.db, ids);
      const unread =
        viewer === null ? undefined : await ctx.readPositions.unreadThreadsByBoard(viewer, ids);
      return ok({
        items: boards.map((b) => ({
          ...presentBoard(b, viewer),
          activity: presentActivity(activity.get(b.id)!),
          unread_threads: unread?.get(b.id) ?? null,
        })),
      });
    },
  );

  r.get(
    '/api/boards/:id/',
    {
      schema: {
        tags: ['boards'],
        summary: 'One board',
        params: IdParam,
        response: { 200: envelopeOf(BoardSchema) },
      },
    },
    async (request) => {
      const viewer = await optionalUser(ctx, request);
      return ok(presentBoard(await ctx.boards.getReadable(viewer, request.params.id), viewer));
    },
  );

  r.post(
    '/api/boards/',
    {
      schema: {
        tags: ['boards'],
        summary: 'Create a board (sysops)',
        body: BoardInput,
        response: { 201: envelopeOf(BoardSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      return reply
        .code(201)
        .send(ok(presentBoard(await ctx.boards.create(request.body, session.user), session.user)));
    },
  );

  r.patch(
    '/api/boards/:id/',
    {
      schema: {
        tags: ['boards'],
        summary: 'Edit or archive a board (sysops)',
        params: IdParam,
        body: BoardPatch,
        response: { 200: envelopeOf(BoardSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(
        presentBoard(
          await ctx.boards.update(request.params.id, request.body, session.user),
          session.user,
        ),
      );
    },
  );

  r.get(
    '/api/boards/:id/messages/',
    {
      schema: {
        tags: ['boards'],
        summary: "A page of a board's messages (or thread starters), newest or oldest first",
        params: IdParam,
        querystring: MessagePageQuery,
        response: { 200: envelopeOf(MessagePage) },
      },
    },
    async (request, reply) => {
      const viewer = await optionalUser(ctx, request);
      const board = await ctx.boards.getReadable(viewer, request.params.id);
      // Only what every reader asks for is cached: a board's first page, for readers with no ignore
      // list. Pages after a cursor (each reader's own walk) and pages that follow someone's ignore
      // list are read from the database each time, so nobody can fill the cache with keys.
      const { order, threads, limit, cursor, page } = request.query;
      if (page !== undefined && cursor !== undefined)
        throw fieldError('query.page', 'cannot be combined with cursor');
      const shared =
        cursor === undefined &&
        (page ?? 1) === 1 &&
        (viewer === null || (await ctx.ignoredPubkeys.listVersion(viewer.id)) === null);
      const key = shared ? [board.id, order, threads, limit, page ?? ''].join('\u0000') : undefined;
      // Pages go out as JSON bytes (serialized once, when cached): a Buffer is sent as it is.
      const { body, outcome } = await ctx.realtime.pages.answer(
        board.id,
        key,
        async () =>
          pageBytes(
            await ctx.messages.list(viewer, board.id, request.query),
            page === undefined
              ? undefined
              : pageOf(await boardListLength(ctx.database.db, viewer, board.id, threads), limit),
          ),
        /no-cache/i.test(request.headers['cache-control'] ?? ''),
      );
      if (outcome !== 'uncached') void reply.header('X-Cache', outcome);
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );

  r.post(
    '/api/messages/',
    {
      schema: {
        tags: ['boards'],
        summary: 'Post a message, or a reply with parent_id; signed with your key',
        body: MessagePost,
        response: { 201: envelopeOf(MessageSchema) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      return reply
        .code(201)
        .send(ok(presentMessage(await ctx.messages.post(session, request.body))));
    },
  );

  r.get(
    '/api/messages/:id/',
    {
      schema: {
        tags: ['boards'],
        summary:
          'A message with one page of its thread (oldest first), and whether each signature verifies',
        params: IdParam,
        querystring: ThreadPageQuery,
        response: { 200: envelopeOf(ThreadPage) },
      },
    },
    async (request) => {
      const viewer = await optionalUser(ctx, request);
      if (request.query.page !== undefined && request.query.cursor !== undefined)
        throw fieldError('query.page', 'cannot be combined with cursor');
      const { message, signatureValid, thread, pages } = await ctx.messages.get(
        viewer,
        request.params.id,
        request.query,
      );
      const firstUnread =
        viewer === null ? undefined : await ctx.readPositions.firstUnread(viewer, message.threadId);
      const avatars = await ctx.remoteAuthors.avatarUrls(
        [message, ...thread]
          .filter((m) => m.authorInstance !== null)
          .map((m) => m.authorFingerprint),
      );
      // Local authors' avatars beside their posts too (people/service.ts).
      for (const [fingerprint, url] of await ctx.people.avatarUrls(
        [message, ...thread].flatMap((m) => (m.authorId === null ? [] : [m.authorId])),
      )) {
        avatars.set(fingerprint, url);
      }
      const presentVerified = (m: Message & { signatureValid: boolean }) => ({
        ...presentMessage(m, avatars),
        signature_valid: m.signatureValid,
      });
      const page = toBoundedPage(
        thread,
        request.query.limit,
        THREAD_PAGE_BYTES,
        (m) => [m.seq],
        presentVerified,
      );
      return ok({
        message: presentVerified({ ...message, signatureValid }),
        thread: page.items,
        next_cursor: page.next_cursor,
        page: pages.page,
        page_count: pages.pageCount,
        post_count: pages.postCount,
        message_page: pages.messagePage,
        first_unread:
          firstUnread === undefined || firstUnread === null
            ? null
            : {
                id: firstUnread.id,
                page: pageOf(
                  (await threadPosition(ctx.database.db, viewer, message.threadId, firstUnread.seq))
                    .position,
                  request.query.limit,
                ),
              },
      });
    },
  );

  r.delete(
    '/api/messages/:id/',
    {
      schema: {
        tags: ['boards'],
        summary:
          'Delete your own message (moderators: any, with a reason in the modlog); an opening post with replies stays as a tombstone',
        params: IdParam,
        querystring: z.strictObject({ reason: z.string().trim().min(1).max(500).optional() }),
        response: { 200: envelopeOf(DeletedMessage) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const { tombstone } = await ctx.messages.delete(
        session,
        request.params.id,
        request.query.reason,
      );
      return ok({ deleted: request.params.id, tombstone });
    },
  );

  r.get(
    '/api/search/',
    {
      schema: {
        tags: ['boards'],
        summary:
          'Search messages by words (each a prefix), best matches first, with snippets of the shown text',
        querystring: SearchQuery,
        response: { 200: envelopeOf(SearchPage) },
      },
    },
    async (request) => {
      const viewer = await optionalUser(ctx, request);
      const { from, to, ...query } = request.query;
      if (from !== undefined && to !== undefined && to < from)
        throw fieldError('query.to', 'must not be before from');
      const result = await ctx.search.search(viewer, {
        ...query,
        after: from,
        before: to === undefined ? undefined : to + DAY_MS,
      });
      return ok(
        mapPage(result, (hit) => ({
          message: presentMessage(hit.message),
          rank: hit.rank,
          subject_highlighted: hit.subject,
          snippet: hit.snippet,
        })),
      );
    },
  );
}
