// The replay cache of signed requests (DESIGN.md §7): every (key, nonce) pair seen in the last
// 600 s, in the database so that it survives restarts and is shared by every app process.
import type { AxonDatabase } from '../../db/database.js';

/** How long a (key, nonce) pair is remembered: twice the ±300 s timestamp window. */
export const REPLAY_WINDOW_MS = 600_000;

export class ReplayCache {
  constructor(private readonly database: AxonDatabase) {}

  /**
   * Records the pair; false when it was there already (a replay). The primary key decides, so two
   * processes receiving the same request at once cannot both accept it.
   */
  async remember(
    keyFingerprint: string,
    nonce: string,
    now: number = Date.now(),
  ): Promise<boolean> {
    const result = await this.database.db
      .insertInto('federation_nonces')
      .values({ key_fingerprint: keyFingerprint, nonce, seen_at: now })
      .onConflict((oc) => oc.columns(['key_fingerprint', 'nonce']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Forgets pairs older than the window: a request that old fails the timestamp check anyway, so
   * the table holds at most one window of accepted requests.
   */
  async prune(now: number = Date.now()): Promise<number> {
    const result = await this.database.db
      .deleteFrom('federation_nonces')
      .where('seen_at', '<', now - REPLAY_WINDOW_MS)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
