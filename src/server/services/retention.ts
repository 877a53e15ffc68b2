// Retention: deletes messages older than their board's message_retention_days (and realtime events
// past the history bound) in small batches, so a large purge never holds the database for long;
// then the attachments, manifests and blobs nothing refers to any more. Runs in the background and as `axon cleanup`.
import { sql } from 'kysely';
import type { AxonDatabase } from '../db/database.js';

const BATCH = 500;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  messagesDeleted: number;
  byBoard: Record<string, number>;
  /** What content collection removed, when it ran. */
  content?: { attachments: number; manifests: number; blobs: number };
}

/** The content side of retention: forgets unreferenced attachments and removes their blobs. */
export interface ContentCollector {
  collect(
    now: number,
  ): Promise<{ attachments: number; manifests: number; garbage: { removedBlobs: string[] } }>;
}

/** Realtime boards (chat, applet events) also keep at most this many events. */
export const REALTIME_HISTORY_MAX = 10_000;

export async function runRetention(
  database: AxonDatabase,
  now = Date.now(),
  options: { realtimeHistoryMax?: number; content?: ContentCollector } = {},
): Promise<RetentionResult> {
  const db = database.db;
  const historyMax = options.realtimeHistoryMax ?? REALTIME_HISTORY_MAX;
  const boards = await db
    .selectFrom('boards')
    .select(['id', 'name', 'message_retention_days', 'is_realtime', 'event_seq'])
    .execute();
  const result: RetentionResult = { messagesDeleted: 0, byBoard: {} };
  for (const board of boards) {
    const days = board.message_retention_days;
    let deleted = 0;
    // Batches of the oldest rows that are past their time, or past the realtime history bound.
    for (;;) {
      const batch = await db
        .deleteFrom('messages')
        .where('seq', 'in', (eb) =>
          eb
            .selectFrom('messages')
            .select('seq')
            .where('board_id', '=', board.id)
            .where((w) =>
              w.or([
                ...(days === null ? [] : [w('created_at', '<', now - days * DAY_MS)]),
                ...(board.is_realtime ? [w('board_seq', '<=', board.event_seq - historyMax)] : []),
                w.lit(false),
              ]),
            )
            .limit(BATCH),
        )
        .executeTakeFirst();
      const n = Number(batch.numDeletedRows);
      deleted += n;
      if (n < BATCH) break;
    }
    if (deleted > 0) result.byBoard[board.name] = deleted;
    result.messagesDeleted += deleted;
  }
  // Author keys no message or account refers to any more.
  await sql`DELETE FROM pubkeys WHERE fingerprint NOT IN (SELECT author_fingerprint FROM messages)
    AND fingerprint NOT IN (SELECT sender_fingerprint FROM private_messages)
    AND fingerprint NOT IN (SELECT fingerprint FROM users)`.execute(db);
  if (options.content !== undefined) {
    const collected = await options.content.collect(now);
    result.content = {
      attachments: collected.attachments,
      manifests: collected.manifests,
      blobs: collected.garbage.removedBlobs.length,
    };
  }
  return result;
}
