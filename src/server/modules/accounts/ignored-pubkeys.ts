// A user's own ignore list: authors (by key fingerprint) whose content vanishes from their lists.
import type { AxonDatabase } from '../../db/database.js';
import { notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { pubkeyInput } from './pubkey-input.js';

export interface IgnoredPubkey {
  fingerprint: string;
  createdAt: number;
}

export class IgnoredPubkeys {
  constructor(private readonly database: AxonDatabase) {}

  /** Idempotent: ignoring a key twice keeps the first entry. */
  async ignore(userId: string, pubkey: string): Promise<IgnoredPubkey> {
    const { fingerprint } = pubkeyInput(pubkey);
    await this.database.db
      .insertInto('ignored_pubkeys')
      .values({ user_id: userId, fingerprint, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['user_id', 'fingerprint']).doNothing())
      .execute();
    const row = await this.database.db
      .selectFrom('ignored_pubkeys')
      .select(['fingerprint', 'created_at'])
      .where('user_id', '=', userId)
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirstOrThrow();
    return { fingerprint: row.fingerprint, createdAt: row.created_at };
  }

  /**
   * A short token that changes whenever the user's ignore list does; null when it is empty (then
   * they see what everyone sees, and can share cached pages).
   */
  async listVersion(userId: string): Promise<string | null> {
    const row = await this.database.db
      .selectFrom('ignored_pubkeys')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('latest')])
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const n = Number(row.n);
    return n === 0 ? null : `${n}.${String(row.latest)}`;
  }

  /** The users who ignore a key: a new event by it is not handed to them (they read it filtered). */
  async ignorersOf(fingerprint: string): Promise<Set<string>> {
    const rows = await this.database.db
      .selectFrom('ignored_pubkeys')
      .select('user_id')
      .where('fingerprint', '=', fingerprint)
      .execute();
    return new Set(rows.map((r) => r.user_id));
  }

  async unignore(userId: string, fingerprint: string): Promise<void> {
    const result = await this.database.db
      .deleteFrom('ignored_pubkeys')
      .where('user_id', '=', userId)
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('ignored pubkey');
  }

  async list(
    userId: string,
    query: { cursor?: string | undefined; limit: number },
  ): Promise<Page<IgnoredPubkey>> {
    let q = this.database.db
      .selectFrom('ignored_pubkeys')
      .select(['fingerprint', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('fingerprint')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [after] = decodeCursor(query.cursor, ['s']);
      q = q.where('fingerprint', '>', after as string);
    }
    const rows = await q.execute();
    return toPage(
      rows,
      query.limit,
      (r) => [r.fingerprint],
      (r) => ({
        fingerprint: r.fingerprint,
        createdAt: r.created_at,
      }),
    );
  }
}
