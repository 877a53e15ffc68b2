// What routes that hold a connection open (streams, long polls) share: who holds it, and a
// kept-alive connection not outliving a server that is closing.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import type { ScopedSession } from '../accounts/scoped-tokens.js';
import type { Session } from '../accounts/sessions.js';
import type { ConnectionKind, OpenConnection } from './connections.js';

/** The request's session, or null for a visitor without a token (a bad token is still a 401). */
export async function sessionOf(ctx: AppContext, request: FastifyRequest): Promise<Session | null> {
  return request.headers.authorization === undefined ? null : authenticate(ctx, request);
}

/**
 * Registers the request as an open stream or long poll on a board, or on no board (a user's own
 * feed), with 429/503 over the caps.
 */
export function holdOpen(
  ctx: AppContext,
  request: FastifyRequest,
  session: ScopedSession | null,
  boardId: string | null,
  kind: ConnectionKind,
): OpenConnection {
  return ctx.realtime.connections.register(
    request,
    { user: session?.user ?? null, sessionId: session?.idHash ?? null, boardId },
    kind,
  );
}

/** A long poll answered while the server closes must not leave a kept-alive connection behind. */
export function closeIfClosing(ctx: AppContext, reply: FastifyReply): void {
  if (ctx.realtime.connections.closing) void reply.header('connection', 'close');
}
