// `axon agent …`: agents (backend-service accounts) and their scoped API tokens, acting as the
// operator through the same service as the sysop API (accounts/agents.ts).
import { Command, InvalidArgumentError } from 'commander';
import type { AppContext } from '../server/context.js';
import type { AgentToken } from '../server/modules/accounts/agents.js';
import type { User } from '../server/modules/accounts/user.js';
import { formatFingerprint } from '../server/modules/federation/identity.js';
import { parseDuration } from './duration.js';

type WithContext = <T>(run: (ctx: AppContext) => Promise<T>) => Promise<T>;

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const collect = (value: string, previous: string[]) => [...previous, value];

function describeAgent(a: User): Record<string, unknown> {
  return {
    id: a.id,
    name: a.username,
    nickname: a.nickname,
    fingerprint: a.fingerprint,
    banned: a.isBanned,
    created_at: iso(a.createdAt),
  };
}

function describeToken(t: AgentToken): Record<string, unknown> {
  return {
    id: t.id,
    label: t.label,
    boards: t.boards,
    applets: t.applets,
    created_at: iso(t.createdAt),
    expires_at: iso(t.expiresAt),
    last_used_at: iso(t.lastUsedAt),
  };
}

export function agentCommands(withContext: WithContext): Command {
  const agent = new Command('agent').description(
    'agents: backend services that post as bots, through scoped API tokens',
  );

  agent
    .command('create')
    .description('create an agent (no password: it acts only through its tokens)')
    .argument('<name>')
    .option('--nickname <nickname>', 'display name (default: the name)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { nickname?: string; json?: boolean }) => {
      await withContext(async (ctx) => {
        const a = await ctx.agents.create({ name, nickname: options.nickname });
        if (options.json) return json(describeAgent(a));
        console.log(`created agent ${a.username}`);
        console.log(`fingerprint: ${formatFingerprint(a.fingerprint)}`);
        console.log(`Issue it a token with: axon agent token ${a.username} --board <board>`);
      });
    });

  agent
    .command('list')
    .description('list agents')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const agents = await ctx.agents.list();
        if (options.json) return json(agents.map(describeAgent));
        if (agents.length === 0) return console.log('no agents yet');
        for (const a of agents)
          console.log(`${a.username.padEnd(32)} ${a.fingerprint}${a.isBanned ? '  banned' : ''}`);
      });
    });

  agent
    .command('token')
    .description('issue an API token for an agent; it is printed once and stored only hashed')
    .argument('<name>')
    .option('--board <board>', 'a board (id or name) it may post to; repeatable', collect, [])
    .option('--applet <applet>', 'an applet (id or name) it may post to; repeatable', collect, [])
    .option('--label <text>', 'what the token is for (shown in `axon agent tokens`)', 'token')
    .option('--expires <duration>', 'lifetime, e.g. 30d or 12h (default: until revoked)', (v) => {
      const ms = parseDuration(v);
      if (ms === undefined) throw new InvalidArgumentError('use a number with m, h or d, e.g. 30d');
      return ms;
    })
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: {
          board: string[];
          applet: string[];
          label: string;
          expires?: number;
          json?: boolean;
        },
      ) => {
        await withContext(async (ctx) => {
          const { token, record } = await ctx.agents.issueToken(name, {
            label: options.label,
            boards: options.board,
            applets: options.applet,
            expires_at: options.expires === undefined ? null : Date.now() + options.expires,
          });
          if (options.json) return json({ ...describeToken(record), token });
          console.log(`token ${record.id} for ${name}:`);
          console.log(token);
          console.log('It is shown only now: give it to the agent as "Authorization: Bearer …".');
        });
      },
    );

  agent
    .command('tokens')
    .description("list an agent's tokens (never the tokens themselves)")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const tokens = await ctx.agents.tokens(name);
        if (options.json) return json(tokens.map(describeToken));
        if (tokens.length === 0) return console.log(`${name} holds no tokens`);
        for (const t of tokens)
          console.log(
            `${t.id}  ${t.label}  boards: ${t.boards.length}  applets: ${t.applets.length}` +
              `  last used: ${iso(t.lastUsedAt) ?? 'never'}`,
          );
      });
    });

  agent
    .command('revoke')
    .description('revoke a token by its id: it stops working at once')
    .argument('<token-id>')
    .action(async (tokenId: string) => {
      await withContext(async (ctx) => {
        const t = await ctx.agents.revokeToken(tokenId);
        console.log(`revoked token ${t.id} (${t.label})`);
      });
    });

  return agent;
}
