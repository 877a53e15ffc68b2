// Notifications over HTTP: the list, read marks, watching a thread, and the live feed: a long poll
// on the user's own channel that answers the moment what they are told of changes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { unauthorized } from '../../http/errors.js';
import { mapPage } from '../../http/pagination.js';
import { accountBanned } from '../accounts/ban-notice.js';
import { isBanActive } from '../accounts/permissions.js';
import { toProfile } from '../accounts/present.js';
import type { Session } from '../accounts/sessions.js';
import { closeIfClosing, holdOpen } from '../realtime/http.js';
import {
  IdParam,
  LiveQuery,
  LiveState,
  NotificationPage,
  NotificationQuery,
  NotificationSchema,
  ThreadWatch,
  ThreadWatchPut,
} from './schema.js';
import { NOTIFICATIONS_KEPT, type Notification } from './service.js';

function present(n: Notification): z.output<typeof NotificationSchema> {
  return {
    id: n.id,
    kind: n.kind,
    message_id: n.messageId,
    private_message_id: n.privateMessageId,
    board_id: n.boardId,
    thread_id: n.threadId,
    actor: {
      fingerprint: n.actor.fingerprint,
      nickname: n.actor.nickname,
      user_id: n.actor.userId,
    },
    subject: n.subject,
    created_at: new Date(n.createdAt).toISOString(),
    read_at: n.readAt === null ? null : new Date(n.readAt).toISOString(),
  };
}

const presentWatch = (w: { watching: boolean; chosen: boolean; threadId: string }) => ({
  thread_id: w.threadId,
  watching: w.watching,
  chosen: w.chosen,
});

/**
 * The user's state now. Read after a wait, so a session ended meanwhile (a ban, a logout
 * elsewhere) is refused here: a banned account is told why and until when at once.
 */
async function liveState(ctx: AppContext, session: Session): Promise<z.output<typeof LiveState>> {
  const user = await ctx.accounts.getUser(session.user.id);
  if (isBanActive(user)) throw accountBanned(user);
  const live = await ctx.database.db
    .selectFrom('sessions')
    .select('id_hash')
    .where('id_hash', '=', session.idHash)
    .executeTakeFirst();
  if (live === undefined)
    throw unauthorized('the session has ended; log in again', 'SESSION_EXPIRED');
  const [state, unreadPms] = await Promise.all([
    ctx.notifications.state(user.id),
    ctx.privateMessages.unreadCount(user.id),
  ]);
  return {
    version: state.version,
    unread: state.unread,
    unread_private_messages: unreadPms,
    user: toProfile(user),
  };
}

/** Waits until the user's version passes `after`, the time runs out or the connection ends. */
async function waitForChange(
  ctx: AppContext,
  request: FastifyRequest,
  session: Session,
  after: number,
  waitMs: number,
): Promise<void> {
  const channel = { kind: 'notifications', userId: session.user.id } as const;
  // Subscribe before reading: a change committed in between still wakes us.
  const next = ctx.realtime.waitBeyond(channel, after);
  try {
    const { version } = await ctx.notifications.state(session.user.id);
    if (version > after) return;
    const open = holdOpen(ctx, request, session, null, 'long_poll');
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        next.promise,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
        }),
        new Promise<void>((resolve) => {
          onAbort = resolve;
          if (open.signal.aborted) resolve();
          else open.signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) open.signal.removeEventListener('abort', onAbort);
      open.release();
    }
  } finally {
    next.cancel();
  }
}

export async function notificationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/notifications/',
    {
      schema: {
        tags: ['notifications'],
        summary: `Your notifications, newest first (the latest ${NOTIFICATIONS_KEPT} are kept)`,
        querystring: NotificationQuery,
        response: { 200: envelopeOf(NotificationPage) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      const page = await ctx.notifications.list(user, request.query);
      return ok({
        ...mapPage(page, present),
        unread: (await ctx.notifications.state(user.id)).unread,
      });
    },
  );

  r.post(
    '/api/notifications/:id/read/',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark one of your notifications read',
        params: IdParam,
        response: { 200: envelopeOf(NotificationSchema) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok(present(await ctx.notifications.markRead(user, request.params.id)));
    },
  );

  r.post(
    '/api/notifications/read_all/',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark all your notifications read',
        response: { 200: envelopeOf(z.object({ marked: z.number() })) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok({ marked: await ctx.notifications.markAllRead(user) });
    },
  );

  r.get(
    '/api/notifications/live/',
    {
      schema: {
        tags: ['notifications'],
        summary:
          'Your live state (unread counts, your account): with after and wait, a long poll answered the moment it changes',
        querystring: LiveQuery,
        response: { 200: envelopeOf(LiveState) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const { after, wait } = request.query;
      if (after !== undefined && wait > 0)
        await waitForChange(ctx, request, session, after, wait * 1000);
      closeIfClosing(ctx, reply);
      return ok(await liveState(ctx, session));
    },
  );

  r.get(
    '/api/notifications/watches/:id/',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Whether you watch the thread holding this post',
        params: IdParam,
        response: { 200: envelopeOf(ThreadWatch) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok(presentWatch(await ctx.notifications.watching(user, request.params.id)));
    },
  );

  r.put(
    '/api/notifications/watches/:id/',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Watch (replies notify you) or leave the thread holding this post',
        params: IdParam,
        body: ThreadWatchPut,
        response: { 200: envelopeOf(ThreadWatch) },
      },
    },
    async (request) => {
      const { user } = await authenticate(ctx, request);
      return ok(
        presentWatch(
          await ctx.notifications.setWatching(user, request.params.id, request.body.watching),
        ),
      );
    },
  );
}
