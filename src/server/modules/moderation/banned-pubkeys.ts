// Instance-wide pubkey bans: content signed by a banned key is refused, here and from peers.
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { forbidden, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { assertCan, VISITOR, type Actor as PolicyActor } from '../accounts/permissions.js';
import { pubkeyInput } from '../accounts/pubkey-input.js';
import type { User } from '../accounts/user.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';
import { channelName } from '../realtime/channels.js';
import { recordModAction, type Actor } from './modlog.js';

export interface BannedPubkey {
  fingerprint: string;
  pubkey: string | null;
  reason: string;
  bannedBy: string | null;
  createdAt: number;
  expiresAt: number | null;
}

type Row = {
  fingerprint: string;
  pubkey: string | null;
  reason: string;
  banned_by: string | null;
  created_at: number;
  expires_at: number | null;
};

const toBan = (r: Row): BannedPubkey => ({
  fingerprint: r.fingerprint,
  pubkey: r.pubkey,
  reason: r.reason,
  bannedBy: r.banned_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** Whether a key is banned here now (a timed ban that ran out no longer counts). */
export async function isPubkeyBanned(
  db: Kysely<DatabaseSchema>,
  fingerprint: string,
  now = Date.now(),
): Promise<boolean> {
  const row = await db
    .selectFrom('banned_pubkeys')
    .select('expires_at')
    .where('fingerprint', '=', fingerprint)
    .executeTakeFirst();
  return row !== undefined && (row.expires_at === null || row.expires_at > now);
}

/** The policy's Actor for a user (null: a visitor), with their key's ban looked up once. */
export async function actorFor(
  db: Kysely<DatabaseSchema>,
  user: User | null,
): Promise<PolicyActor> {
  if (user === null) return VISITOR;
  return { kind: 'user', user, pubkeyBanned: await isPubkeyBanned(db, user.fingerprint) };
}

/** An account's id and roles by id or key fingerprint, for the rank rules (undefined: none). */
export async function rankedUser(
  db: Kysely<DatabaseSchema>,
  where: ['id' | 'fingerprint', string],
) {
  const row = await db
    .selectFrom('users')
    .select(['id', 'is_sysop', 'is_moderator'])
    .where(where[0], '=', where[1])
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { id: row.id, isSysop: Boolean(row.is_sysop), isModerator: Boolean(row.is_moderator) };
}

/** Announced when the banned keys change: what every list shows may change with them. */
export const BANS_CHANNEL = channelName({ kind: 'bans' });

/**
 * Inside a ban's transaction, last: tells the peers of a moderator's ban or unban (set by
 * context.ts to the federation's logger, so this module does not depend on federation).
 */
export type BanFederation = (
  trx: Kysely<DatabaseSchema>,
  moderator: User,
  key: KeyObject,
  action:
    | { kind: 'ban_pubkey'; fingerprint: string; expires_at: string | null }
    | { kind: 'unban_pubkey'; fingerprint: string },
  reason: string,
) => Promise<(() => void) | undefined>;

export class BannedPubkeys {
  constructor(
    private readonly database: AxonDatabase,
    private readonly hub: EventHub,
  ) {}

  /** Set when federation is on: a moderator's ban or unban becomes a FederatedAction too. */
  federate: BanFederation | undefined;

  /**
   * Bans a key (replacing an earlier ban of it, so a ban can be extended or made permanent).
   * `by`: the moderator acting (absent: the operator, through the CLI), held to the rank rules;
   * with the moderator's session `key`, the ban is sent to the peers too (operator bans are not).
   */
  async ban(input: {
    pubkey: string;
    reason: string;
    expiresAt: number | null;
    actor: Actor;
    by?: User;
    key?: KeyObject;
  }): Promise<BannedPubkey> {
    if (input.by !== undefined) assertCan(input.by, 'moderate');
    const { fingerprint, pem } = pubkeyInput(input.pubkey);
    if (input.by !== undefined) {
      const owner = (await rankedUser(this.database.db, ['fingerprint', fingerprint])) ?? null;
      assertCan(await actorFor(this.database.db, input.by), 'ban_pubkey', { target: owner }, () =>
        forbidden(
          owner?.id === input.by?.id
            ? 'you cannot ban your own key'
            : 'only a sysop can ban the key of a sysop',
        ),
      );
    }
    const row: Row = {
      fingerprint,
      pubkey: pem,
      reason: input.reason,
      banned_by: input.actor.id,
      created_at: Date.now(),
      expires_at: input.expiresAt,
    };
    const after = await this.database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('banned_pubkeys')
        .values(row)
        .onConflict((oc) =>
          oc.column('fingerprint').doUpdateSet({
            reason: row.reason,
            banned_by: row.banned_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
            ...(pem === null ? {} : { pubkey: pem }),
          }),
        )
        .execute();
      await recordModAction(trx, {
        actor: input.actor,
        action: 'ban_pubkey',
        targetType: 'pubkey',
        targetId: fingerprint,
        reason: input.reason,
        details: {
          until: input.expiresAt === null ? null : new Date(input.expiresAt).toISOString(),
        },
      });
      await notifyOtherProcesses(trx, this.database.dialect, BANS_CHANNEL, 0);
      if (input.by === undefined || input.key === undefined) return undefined;
      return this.federate?.(
        trx,
        input.by,
        input.key,
        {
          kind: 'ban_pubkey',
          fingerprint,
          expires_at: input.expiresAt === null ? null : new Date(input.expiresAt).toISOString(),
        },
        input.reason,
      );
    });
    after?.();
    this.hub.publish(BANS_CHANNEL, 0);
    return toBan(row);
  }

  /**
   * Lifts a ban; `by` (absent: the operator) may lift only bans made by their rank or below.
   * With the moderator's session `key`, the lifting is sent to the peers too.
   */
  async unban(fingerprint: string, actor: Actor, by?: User, key?: KeyObject): Promise<void> {
    if (by !== undefined) assertCan(by, 'moderate');
    if (by !== undefined) {
      const row = await this.database.db
        .selectFrom('banned_pubkeys')
        .select('banned_by')
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      if (row === undefined) throw notFound('banned pubkey');
      const bannedBy =
        row.banned_by === null
          ? null
          : ((await rankedUser(this.database.db, ['id', row.banned_by])) ?? null);
      assertCan(await actorFor(this.database.db, by), 'unban_pubkey', { bannedBy }, () =>
        forbidden('only a sysop can lift a ban a sysop (or the operator) made'),
      );
    }
    const after = await this.database.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('banned_pubkeys')
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound('banned pubkey');
      await recordModAction(trx, {
        actor,
        action: 'unban_pubkey',
        targetType: 'pubkey',
        targetId: fingerprint,
        reason: 'ban lifted',
      });
      await notifyOtherProcesses(trx, this.database.dialect, BANS_CHANNEL, 0);
      if (by === undefined || key === undefined) return undefined;
      return this.federate?.(trx, by, key, { kind: 'unban_pubkey', fingerprint }, 'ban lifted');
    });
    after?.();
    this.hub.publish(BANS_CHANNEL, 0);
  }

  isBanned(fingerprint: string, now = Date.now()): Promise<boolean> {
    return isPubkeyBanned(this.database.db, fingerprint, now);
  }

  /** The banned keys, for staff (`by` absent: the operator). */
  async list(
    query: { cursor?: string | undefined; limit: number },
    by?: User,
  ): Promise<Page<BannedPubkey>> {
    if (by !== undefined) assertCan(by, 'moderate');
    let q = this.database.db
      .selectFrom('banned_pubkeys')
      .selectAll()
      .orderBy('fingerprint')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [after] = decodeCursor(query.cursor, ['s']);
      q = q.where('fingerprint', '>', after as string);
    }
    return toPage(await q.execute(), query.limit, (r) => [r.fingerprint], toBan);
  }
}
