// What an agent token may do over HTTP: read what its agent may read, and write only through the
// few routes that post to a board or an applet, each on a board or applet its token names. Checked
// before the route's service runs, so a refused request changes nothing.
import type { FastifyRequest } from 'fastify';
import type { AgentSession } from '../modules/accounts/agents.js';
import { AppError } from './errors.js';

type Target = { kind: 'board' | 'applet'; id: unknown };

const param = (request: FastifyRequest, name: string): unknown =>
  (request.params as Record<string, unknown> | undefined)?.[name];
const bodyField = (request: FastifyRequest, name: string): unknown =>
  (request.body as Record<string, unknown> | null | undefined)?.[name];

/** The writes an agent token may make ("METHOD route", without the trailing slash) and their target. */
const AGENT_WRITES: Record<string, (request: FastifyRequest) => Target> = {
  'POST /api/messages': (r) => ({ kind: 'board', id: bodyField(r, 'board_id') }),
  'POST /api/boards/:id/post_event': (r) => ({ kind: 'board', id: param(r, 'id') }),
  'POST /api/boards/:id/rooms/:room_id/shared_state': (r) => ({
    kind: 'board',
    id: param(r, 'id'),
  }),
  'POST /api/applets/:id/post_event': (r) => ({ kind: 'applet', id: param(r, 'id') }),
  'POST /api/applets/:id/rooms/:room_id/shared_state': (r) => ({
    kind: 'applet',
    id: param(r, 'id'),
  }),
  'PUT /api/applets/:id/data': (r) => ({ kind: 'applet', id: param(r, 'id') }),
  'POST /api/applets/:id/high_scores': (r) => ({ kind: 'applet', id: param(r, 'id') }),
};

const outOfScope = (message: string) => new AppError(403, 'AGENT_SCOPE', message);

/**
 * Whether this request is a write the agent's token allows: true for one that counts against the
 * agent's write limit, false for a read; a 403 AGENT_SCOPE for anything else.
 */
export function checkAgentScope(session: AgentSession, request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  const route = `${request.method} ${(request.routeOptions.url ?? '').replace(/\/$/, '')}`;
  const targetOf = AGENT_WRITES[route];
  if (targetOf === undefined)
    throw outOfScope(
      'an agent token may only read, and post to the boards and applets it names (docs/applets.md, "Agents")',
    );
  const { kind, id } = targetOf(request);
  const allowed = kind === 'board' ? session.agent.scope.boards : session.agent.scope.applets;
  if (typeof id !== 'string' || !allowed.includes(id))
    throw outOfScope(`this agent token may not post to that ${kind}`);
  return true;
}
