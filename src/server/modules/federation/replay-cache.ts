// The replay cache of signed requests (DESIGN.md §7): every (key, nonce) pair seen in the last
// 600 s, in the database so that it survives restarts and is shared by every app process.
import type { AxonDatabase } from '../../db/database.js';

/** How long a (key, nonce) pair is remembered: twice the ±300 s timestamp window. */
export const REPLAY_WINDOW_MS = 600_000;

interface Waiting {
  keyFingerprint: string;
  nonce: string;
  now: number;
  settle: (fresh: boolean | Error) => void;
}

export class ReplayCache {
  /** Pairs to record in the next transaction (those that came in the same turn of the loop). */
  private waiting: Waiting[] = [];

  constructor(private readonly database: AxonDatabase) {}

  /**
   * Records the pair; false when it was there already (a replay). The primary key decides, so two
   * processes receiving the same request at once cannot both accept it. The pairs of requests
   * checked in the same turn of the event loop are committed together (one disk sync for a burst
   * of chunk requests instead of one each); each answer waits for its pair's commit.
   */
  remember(keyFingerprint: string, nonce: string, now: number = Date.now()): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const settle = (fresh: boolean | Error) =>
        fresh instanceof Error ? reject(fresh) : resolve(fresh);
      this.waiting.push({ keyFingerprint, nonce, now, settle });
      if (this.waiting.length === 1) setImmediate(() => void this.commitWaiting());
    });
  }

  private async commitWaiting(): Promise<void> {
    // In key order: two processes committing the same pairs cannot wait on each other in a cycle.
    const batch = this.waiting
      .splice(0)
      .sort((x, y) =>
        x.keyFingerprint === y.keyFingerprint
          ? x.nonce.localeCompare(y.nonce)
          : x.keyFingerprint.localeCompare(y.keyFingerprint),
      );
    try {
      const fresh = await this.database.db.transaction().execute(async (trx) => {
        const inserted: boolean[] = [];
        for (const pair of batch) {
          const result = await trx
            .insertInto('federation_nonces')
            .values({ key_fingerprint: pair.keyFingerprint, nonce: pair.nonce, seen_at: pair.now })
            .onConflict((oc) => oc.columns(['key_fingerprint', 'nonce']).doNothing())
            .executeTakeFirst();
          inserted.push(Number(result.numInsertedOrUpdatedRows ?? 0n) === 1);
        }
        return inserted;
      });
      batch.forEach((pair, i) => pair.settle(fresh[i]!));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const pair of batch) pair.settle(failure);
    }
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
