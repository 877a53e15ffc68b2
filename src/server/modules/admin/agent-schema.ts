// The agents API's shapes (sysops only): agents, and the scoped tokens issued to them.
import { z } from 'zod';
import { MAX_SCOPE_ENTRIES } from '../accounts/agents.js';
import { nickname, Profile, username } from '../accounts/schema.js';

export const AgentBody = z.strictObject({ name: username, nickname: nickname.optional() });
export const AgentNameParam = z.strictObject({ name: username });
export const TokenIdParam = z.strictObject({ id: z.string().max(64) });

const scopeList = z.array(z.string().trim().min(1).max(200)).max(MAX_SCOPE_ENTRIES);

export const AgentTokenBody = z.strictObject({
  label: z.string().trim().min(1).max(100).default('token'),
  boards: scopeList.default([]).describe('boards (ids or names) the token may post to'),
  applets: scopeList.default([]).describe('applets (ids or names) the token may post to'),
  expires_at: z.iso.datetime().nullable().optional().describe('absent or null: until revoked'),
});

export const AgentTokenSchema = z
  .object({
    id: z.string(),
    agent_id: z.string(),
    label: z.string(),
    boards: z.array(z.string()).describe('board ids'),
    applets: z.array(z.string()).describe('applet ids'),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
  })
  .meta({ id: 'AgentToken' });

export const IssuedAgentToken = AgentTokenSchema.extend({
  token: z.string().describe('shown once: send it as "Authorization: Bearer <token>"'),
});

export const AgentList = z.object({ items: z.array(Profile) });
export const AgentTokenList = z.object({ items: z.array(AgentTokenSchema) });
