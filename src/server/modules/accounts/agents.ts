// Agents: accounts that are backend services (a game's referee, a board bot). A sysop creates them
// and issues each revocable API tokens scoped to the boards and applets it may post to. An agent
// has no password: it acts only through its tokens, and signs with a key the server holds sealed
// under the instance secret. Tokens are shown once; the database keeps only their SHA-256.
import { accountBanned } from './ban-notice.js';
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { open, seal } from '../../../crypto/aead.js';
import { generateRsaKeyPair, privateKeyFromDer } from '../../../crypto/keys.js';
import type { AxonDatabase } from '../../db/database.js';
import type { AttemptCounters } from '../../http/rate-limits.js';
import { isUniqueViolation } from '../../db/errors.js';
import { conflict, fieldError, notFound, parseInput, unauthorized } from '../../http/errors.js';
import { assertCan, isBanActive } from './permissions.js';
import { nickname as nicknameSchema, username as usernameSchema } from './schema.js';
import { newPasswordKdf } from './passwords.js';
import { sealPrivateKey } from './key-vault.js';
import type { Realtime } from '../realtime/realtime.js';
import type { Session } from './sessions.js';
import { USER_COLUMNS, toUser, type User } from './user.js';

/** What a token may post to: board ids and applet ids (each applet's event board and rooms). */
export interface AgentScope {
  boards: readonly string[];
  applets: readonly string[];
}

export interface AgentToken extends AgentScope {
  id: string;
  agentId: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** A session made from an agent token: the agent, and what the token may post to. */
export interface AgentSession extends Session {
  agent: { tokenId: string; scope: AgentScope };
}

/** Every agent token starts with this, so the auth layer tells it from a session JWT at a glance. */
export const AGENT_TOKEN_PREFIX = 'axa_';
/** The idHash an agent session carries: realtime connections and revocations key on it. */
export const agentSessionId = (tokenId: string) => `agent:${tokenId}`;

/** Bounds on what a token may name, and on the tokens an agent may hold. */
export const MAX_SCOPE_ENTRIES = 50;
export const MAX_TOKENS_PER_AGENT = 20;
/** Writes one agent may make in a minute, whatever its tokens (docs/applets.md, "Agents"). */
export const AGENT_WRITES_PER_MINUTE = 120;
/** last_used_at is written at most this often per token, so reads cost no write each. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Opened agent keys kept in memory: agents are few, and this bounds the map whatever happens. */
const MAX_OPEN_KEYS = 64;

export const AgentCreate = z.strictObject({
  name: usernameSchema,
  nickname: nicknameSchema.optional(),
});
export const TokenRequest = z.strictObject({
  label: z.string().trim().min(1).max(100),
  boards: z.array(z.string().trim().min(1).max(200)).max(MAX_SCOPE_ENTRIES),
  applets: z.array(z.string().trim().min(1).max(200)).max(MAX_SCOPE_ENTRIES),
  expires_at: z.number().int().positive().nullable().optional(),
});

const hashSecret = (token: string) => createHash('sha256').update(token).digest('hex');
const keyAad = (agentId: string) => Buffer.from(`axon-agent-private-key-v1:${agentId}`);

export class AgentService {
  private readonly openKeys = new Map<string, { sealed: string; key: KeyObject }>();

  constructor(
    private readonly database: AxonDatabase,
    /** From the instance secret (secrets.ts): seals each agent's private key. */
    private readonly sealKey: Buffer,
    private readonly attempts: AttemptCounters,
    /** Told when a token is revoked, so the streams and long polls it opened end with it. */
    private readonly realtime?: Realtime,
  ) {}

  /** Counts one write by `agent`: a 429 RATE_LIMITED past AGENT_WRITES_PER_MINUTE, shared by all processes. */
  async countWrite(agent: User, now = Date.now()): Promise<void> {
    const key = `agent-writes:${createHash('sha256').update(agent.id).digest('base64url').slice(0, 22)}`;
    await this.attempts.limit(key, AGENT_WRITES_PER_MINUTE, 'writes by this agent', now);
  }

  private get db() {
    return this.database.db;
  }

  /**
   * A new agent account with its own key pair. It gets no password and no recovery key: its
   * password and recovery copies of the key are sealed under random keys nobody keeps, and login
   * refuses agents outright (AccountService.login).
   */
  async create(input: { name: string; nickname?: string | undefined }, by?: User): Promise<User> {
    if (by !== undefined) assertCan(by, 'admin');
    const { name, nickname } = parseInput(AgentCreate, input);
    const taken = () =>
      conflict('USERNAME_TAKEN', `username ${name} is taken`, {
        fields: [{ field: 'body.name', message: 'is taken' }],
      });
    const existing = await this.db
      .selectFrom('users')
      .select('id')
      .where('username_lower', '=', name.toLowerCase())
      .executeTakeFirst();
    if (existing !== undefined) throw taken();
    const pair = await generateRsaKeyPair();
    const id = uuidv7();
    const now = Date.now();
    const nobodysKey = () => randomBytes(32);
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('users')
          .values({
            id,
            username: name,
            username_lower: name.toLowerCase(),
            nickname: nickname ?? name,
            timezone: 'UTC',
            pubkey: pair.publicKey,
            fingerprint: pair.fingerprint,
            password_kdf: JSON.stringify(newPasswordKdf()),
            password_verifier: nobodysKey().toString('base64'),
            private_key_by_password: sealPrivateKey(
              nobodysKey(),
              id,
              'password',
              pair.privateKeyDer,
            ),
            private_key_by_recovery: sealPrivateKey(
              nobodysKey(),
              id,
              'recovery',
              pair.privateKeyDer,
            ),
            avatar: null,
            avatar_mime: null,
            avatar_hash: null,
            banned_until: null,
            ban_reason: null,
            is_agent: true,
            // An agent posts where its tokens allow; it uploads nothing.
            can_upload: false,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx
          .insertInto('agent_keys')
          .values({
            user_id: id,
            private_key_sealed: seal(this.sealKey, pair.privateKeyDer, keyAad(id)).toString(
              'base64',
            ),
            created_at: now,
          })
          .execute();
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    return this.get(name);
  }

  /**
   * Every agent, by name (at most a thousand: agents are made by hand). `by` in these methods: the
   * user asking (absent: the operator); only sysops manage agents.
   */
  async list(by?: User): Promise<User[]> {
    if (by !== undefined) assertCan(by, 'admin');
    const rows = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('is_agent', '=', true)
      .orderBy('username_lower')
      .limit(1000)
      .execute();
    return rows.map(toUser);
  }

  /** An agent by name; 404 for a name that is no agent's. */
  async get(name: string): Promise<User> {
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('username_lower', '=', name.toLowerCase())
      .where('is_agent', '=', true)
      .executeTakeFirst();
    if (row === undefined) throw notFound(`agent ${name}`);
    return toUser(row);
  }

  /**
   * Issues a token for an agent, naming boards (by id or name) and applets (by id or name) it may
   * post to. Returns the token, which is shown once: only its hash is stored.
   */
  async issueToken(
    name: string,
    input: z.input<typeof TokenRequest>,
    by?: User,
  ): Promise<{ token: string; record: AgentToken }> {
    if (by !== undefined) assertCan(by, 'admin');
    const request = parseInput(TokenRequest, input);
    const agent = await this.get(name);
    const boards = await this.resolveAll('boards', request.boards, (ref) =>
      this.db
        .selectFrom('boards')
        .select('id')
        .where((eb) => eb.or([eb('id', '=', ref), eb('name_lower', '=', ref.toLowerCase())]))
        .executeTakeFirst(),
    );
    const applets = await this.resolveAll('applets', request.applets, (ref) =>
      this.db
        .selectFrom('applets')
        .select('id')
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
        .executeTakeFirst(),
    );
    if (request.expires_at != null && request.expires_at <= Date.now())
      throw fieldError('body.expires_at', 'must be in the future');
    if (boards.length === 0 && applets.length === 0)
      throw fieldError('body.boards', 'name at least one board or applet the token may post to');
    const held = await this.db
      .selectFrom('agent_tokens')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', agent.id)
      .executeTakeFirstOrThrow();
    if (Number(held.n) >= MAX_TOKENS_PER_AGENT)
      throw conflict(
        'AGENT_TOKEN_LIMIT',
        `an agent may hold at most ${MAX_TOKENS_PER_AGENT} tokens; revoke one first`,
      );
    const token = AGENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const record: AgentToken = {
      id: uuidv7(),
      agentId: agent.id,
      label: request.label,
      boards,
      applets,
      createdAt: Date.now(),
      expiresAt: request.expires_at ?? null,
      lastUsedAt: null,
    };
    await this.db
      .insertInto('agent_tokens')
      .values({
        id: record.id,
        user_id: agent.id,
        secret_hash: hashSecret(token),
        label: record.label,
        boards: JSON.stringify(boards),
        applets: JSON.stringify(applets),
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        last_used_at: null,
      })
      .execute();
    return { token, record };
  }

  /** Each reference as the id it names, in order and without repeats; a 400 for one that names nothing. */
  private async resolveAll(
    field: 'boards' | 'applets',
    refs: readonly string[],
    find: (ref: string) => Promise<{ id: string } | undefined>,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, ref] of refs.entries()) {
      const row = await find(ref);
      if (row === undefined)
        throw fieldError(`body.${field}.${i}`, `no such ${field.slice(0, -1)}: ${ref}`);
      if (!ids.includes(row.id)) ids.push(row.id);
    }
    return ids;
  }

  /** An agent's tokens (never the tokens themselves), newest first. */
  async tokens(name: string, by?: User): Promise<AgentToken[]> {
    if (by !== undefined) assertCan(by, 'admin');
    const agent = await this.get(name);
    const rows = await this.db
      .selectFrom('agent_tokens')
      .selectAll()
      .where('user_id', '=', agent.id)
      .orderBy('id', 'desc')
      .limit(MAX_TOKENS_PER_AGENT)
      .execute();
    return rows.map(toToken);
  }

  /** Revokes one token at once: its next request is a 401, and its open streams end. */
  async revokeToken(tokenId: string, by?: User): Promise<AgentToken> {
    if (by !== undefined) assertCan(by, 'admin');
    const row = await this.db
      .deleteFrom('agent_tokens')
      .where('id', '=', tokenId)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound(`agent token ${tokenId}`);
    await this.realtime?.announce({ kind: 'session', idHash: agentSessionId(row.id) });
    return toToken(row);
  }

  /**
   * The session an agent token speaks for: a 401 for one that is unknown, revoked or expired, a 403
   * for a banned agent. Every use counts against the agent's write limit in `countWrite`.
   */
  async resolve(token: string, now = Date.now()): Promise<AgentSession> {
    const row = await this.db
      .selectFrom('agent_tokens')
      .innerJoin('users', 'users.id', 'agent_tokens.user_id')
      .innerJoin('agent_keys', 'agent_keys.user_id', 'agent_tokens.user_id')
      .select(USER_COLUMNS.map((c) => `users.${c}` as const))
      .select([
        'agent_tokens.id as token_id',
        'agent_tokens.boards as token_boards',
        'agent_tokens.applets as token_applets',
        'agent_tokens.expires_at as token_expires_at',
        'agent_tokens.last_used_at as token_last_used_at',
        'agent_keys.private_key_sealed',
      ])
      .where('agent_tokens.secret_hash', '=', hashSecret(token))
      .executeTakeFirst();
    if (row === undefined) throw unauthorized('the agent token is not valid', 'INVALID_TOKEN');
    const expiresAt = row.token_expires_at === null ? null : Number(row.token_expires_at);
    if (expiresAt !== null && expiresAt <= now)
      throw unauthorized('the agent token has expired', 'SESSION_EXPIRED');
    const user = toUser(row);
    if (isBanActive(user)) throw accountBanned(user);
    const lastUsed = row.token_last_used_at === null ? 0 : Number(row.token_last_used_at);
    if (now - lastUsed >= LAST_USED_RESOLUTION_MS)
      await this.db
        .updateTable('agent_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.token_id)
        .execute();
    const sealed = row.private_key_sealed;
    const privateKeyDer = () => open(this.sealKey, Buffer.from(sealed, 'base64'), keyAad(user.id));
    return {
      user,
      idHash: agentSessionId(row.token_id),
      expiresAt: expiresAt ?? Number.MAX_SAFE_INTEGER,
      privateKeyDer,
      privateKey: () => this.openKey(user.id, sealed, privateKeyDer),
      agent: {
        tokenId: row.token_id,
        scope: {
          boards: JSON.parse(row.token_boards) as string[],
          applets: JSON.parse(row.token_applets) as string[],
        },
      },
    };
  }

  private openKey(agentId: string, sealed: string, der: () => Buffer): KeyObject {
    const found = this.openKeys.get(agentId);
    if (found !== undefined && found.sealed === sealed) return found.key;
    if (this.openKeys.size >= MAX_OPEN_KEYS) this.openKeys.clear();
    const key = privateKeyFromDer(der());
    this.openKeys.set(agentId, { sealed, key });
    return key;
  }
}

/**
 * Which of these session ids are live agent sessions: token present and unexpired, agent not
 * banned (realtime connections check this as they check users' sessions).
 */
export async function liveAgentSessions(
  database: AxonDatabase,
  idHashes: readonly string[],
  now = Date.now(),
): Promise<Set<string>> {
  const tokenIds = idHashes
    .filter((h) => h.startsWith('agent:'))
    .map((h) => h.slice('agent:'.length));
  const live = new Set<string>();
  for (let i = 0; i < tokenIds.length; i += 500) {
    const rows = await database.db
      .selectFrom('agent_tokens')
      .innerJoin('users', 'users.id', 'agent_tokens.user_id')
      .select([
        'agent_tokens.id',
        'agent_tokens.expires_at',
        'users.is_banned',
        'users.banned_until',
      ])
      .where('agent_tokens.id', 'in', tokenIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const expired = r.expires_at !== null && Number(r.expires_at) <= now;
      const banned = isBanActive(
        {
          isBanned: Boolean(r.is_banned),
          bannedUntil: r.banned_until === null ? null : Number(r.banned_until),
        },
        now,
      );
      if (!expired && !banned) live.add(agentSessionId(r.id));
    }
  }
  return live;
}

function toToken(row: {
  id: string;
  user_id: string;
  label: string;
  boards: string;
  applets: string;
  created_at: number | string;
  expires_at: number | string | null;
  last_used_at: number | string | null;
}): AgentToken {
  return {
    id: row.id,
    agentId: row.user_id,
    label: row.label,
    boards: JSON.parse(row.boards) as string[],
    applets: JSON.parse(row.applets) as string[],
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

export const isAgentSession = (session: Session): session is AgentSession =>
  (session as Partial<AgentSession>).agent !== undefined;
