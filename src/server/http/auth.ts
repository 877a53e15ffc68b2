// Bearer-token authentication: turns a request into the session (and so the actor) services check.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { AGENT_TOKEN_PREFIX, isAgentSession } from '../modules/accounts/agents.js';
import { accountBanned } from '../modules/accounts/ban-notice.js';
import { isBanActive } from '../modules/accounts/permissions.js';
import type { Session } from '../modules/accounts/sessions.js';
import type { User } from '../modules/accounts/user.js';
import { checkAgentScope } from './agent-scope.js';
import { unauthorized } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is a signed federation route: peers, not accounts, send its bodies. */
    signedByPeer?: boolean;
  }
}

const resolved = new WeakMap<FastifyRequest, Promise<Session>>();
const agentChecked = new WeakMap<FastifyRequest, Promise<Session>>();

/**
 * The request's session; a 401 without a live one, a 403 for a banned account. An agent token's
 * session only passes on a read or on a write its scope allows (agent-scope.ts), and each write
 * counts against the agent's limit; the check runs once the route has parsed the body.
 */
export function authenticate(ctx: AppContext, request: FastifyRequest): Promise<Session> {
  let checked = agentChecked.get(request);
  if (checked === undefined) {
    checked = sessionOf(ctx, request).then(async (session) => {
      if (isAgentSession(session) && checkAgentScope(session, request))
        await ctx.agents.countWrite(session.user);
      return session;
    });
    agentChecked.set(request, checked);
  }
  return checked;
}

/** The request's session, before any agent scope check. */
function sessionOf(ctx: AppContext, request: FastifyRequest): Promise<Session> {
  let session = resolved.get(request);
  if (session === undefined) {
    session = resolve(ctx, request);
    resolved.set(request, session);
  }
  return session;
}

async function resolve(ctx: AppContext, request: FastifyRequest): Promise<Session> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) throw unauthorized();
  const token = match[1]!;
  if (token.startsWith(AGENT_TOKEN_PREFIX)) return ctx.agents.resolve(token);
  const session = await ctx.sessions.resolve(ctx.database.db, token);
  if (isBanActive(session.user)) throw accountBanned(session.user);
  return session;
}

/** The signed-in user, or null for a visitor without a token; a bad token is still a 401. */
export async function optionalUser(ctx: AppContext, request: FastifyRequest): Promise<User | null> {
  if (request.headers.authorization === undefined) return null;
  return (await authenticate(ctx, request)).user;
}

/** The largest body read from a client that has shown no session (register, login, recovery). */
export const ANONYMOUS_BODY_LIMIT = 16 * 1024;

/**
 * Refuses, before a byte of it is read, a body larger than ANONYMOUS_BODY_LIMIT (or of unknown
 * length) from a client without a live session: only accounts may make the server read and hold
 * up to a MiB (or an upload) for them. The connection closes after the 401, leaving the body unread.
 */
export function authenticateLargeBodies(ctx: AppContext, app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    // Signed federation routes admit only trusted peers before reading a body (federation/inbound.ts).
    if (request.routeOptions.config.signedByPeer === true) return;
    const length = Number(request.headers['content-length'] ?? 0);
    const unknownLength = request.headers['transfer-encoding'] !== undefined;
    if (!unknownLength && !(length > ANONYMOUS_BODY_LIMIT)) return;
    // Past the route's own limit Fastify answers 413 from the header alone, reading nothing.
    if (!unknownLength && length > request.routeOptions.bodyLimit) return;
    try {
      await sessionOf(ctx, request);
    } catch (error) {
      void reply.header('Connection', 'close');
      throw error;
    }
  });
}
