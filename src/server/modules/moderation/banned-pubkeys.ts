// Instance-wide pubkey bans: content signed by a banned key is refused, here and from peers.
import type { AxonDatabase } from '../../db/database.js';
import { notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { pubkeyInput } from '../accounts/pubkey-input.js';
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

/** Announced when the banned keys change: what every list shows may change with them. */
export const BANS_CHANNEL = channelName({ kind: 'bans' });

export class BannedPubkeys {
  constructor(
    private readonly database: AxonDatabase,
    private readonly hub: EventHub,
  ) {}

  /** Bans a key (replacing an earlier ban of it, so a ban can be extended or made permanent). */
  async ban(input: {
    pubkey: string;
    reason: string;
    expiresAt: number | null;
    actor: Actor;
  }): Promise<BannedPubkey> {
    const { fingerprint, pem } = pubkeyInput(input.pubkey);
    const row: Row = {
      fingerprint,
      pubkey: pem,
      reason: input.reason,
      banned_by: input.actor.id,
      created_at: Date.now(),
      expires_at: input.expiresAt,
    };
    await this.database.db.transaction().execute(async (trx) => {
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
    });
    this.hub.publish(BANS_CHANNEL, 0);
    return toBan(row);
  }

  async unban(fingerprint: string, actor: Actor): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
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
    });
    this.hub.publish(BANS_CHANNEL, 0);
  }

  async isBanned(fingerprint: string, now = Date.now()): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('banned_pubkeys')
      .select('expires_at')
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    return row !== undefined && (row.expires_at === null || row.expires_at > now);
  }

  async list(query: { cursor?: string | undefined; limit: number }): Promise<Page<BannedPubkey>> {
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
