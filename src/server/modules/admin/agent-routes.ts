// Sysop administration of agents: create them, issue and revoke their scoped API tokens.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authenticate } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import type { AgentToken } from '../accounts/agents.js';
import { Profile } from '../accounts/schema.js';
import { toProfile } from '../accounts/present.js';
import {
  AgentBody,
  AgentList,
  AgentNameParam,
  AgentTokenBody,
  AgentTokenList,
  AgentTokenSchema,
  IssuedAgentToken,
  TokenIdParam,
} from './agent-schema.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentToken(t: AgentToken): z.output<typeof AgentTokenSchema> {
  return {
    id: t.id,
    agent_id: t.agentId,
    label: t.label,
    boards: [...t.boards],
    applets: [...t.applets],
    created_at: new Date(t.createdAt).toISOString(),
    expires_at: iso(t.expiresAt),
    last_used_at: iso(t.lastUsedAt),
  };
}

export async function agentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/admin/agents/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Every agent (backend-service account), by name',
        response: { 200: envelopeOf(AgentList) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok({ items: (await ctx.agents.list(session.user)).map((a) => toProfile(a)) });
    },
  );

  r.post(
    '/api/admin/agents/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an agent: an account with its own key and no password',
        body: AgentBody,
        response: { 201: envelopeOf(Profile) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const agent = await ctx.agents.create(request.body, session.user);
      return reply.code(201).send(ok(toProfile(agent)));
    },
  );

  r.get(
    '/api/admin/agents/:name/tokens/',
    {
      schema: {
        tags: ['admin'],
        summary: "An agent's tokens (never the tokens themselves), newest first",
        params: AgentNameParam,
        response: { 200: envelopeOf(AgentTokenList) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      const tokens = await ctx.agents.tokens(request.params.name, session.user);
      return ok({ items: tokens.map(presentToken) });
    },
  );

  r.post(
    '/api/admin/agents/:name/tokens/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Issue a token for an agent, scoped to the boards and applets it may post to',
        params: AgentNameParam,
        body: AgentTokenBody,
        response: { 201: envelopeOf(IssuedAgentToken) },
      },
    },
    async (request, reply) => {
      const session = await authenticate(ctx, request);
      const { expires_at, ...scope } = request.body;
      const { token, record } = await ctx.agents.issueToken(
        request.params.name,
        { ...scope, expires_at: expires_at == null ? null : Date.parse(expires_at) },
        session.user,
      );
      return reply.code(201).send(ok({ ...presentToken(record), token }));
    },
  );

  r.delete(
    '/api/admin/agent_tokens/:id/',
    {
      schema: {
        tags: ['admin'],
        summary: 'Revoke an agent token: it stops working at once',
        params: TokenIdParam,
        response: { 200: envelopeOf(AgentTokenSchema) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      return ok(presentToken(await ctx.agents.revokeToken(request.params.id, session.user)));
    },
  );
}
