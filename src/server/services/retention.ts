// Retention: deletes messages older than their board's message_retention_days, in small batches
// so a large purge never holds the database for long. Runs in the background and as `axon cleanup`.
import { sql } from 'kysely';
import type { AxonDatabase } from '../db/database.js';

const BATCH = 500;
const DAY_MS = 86_400_000;

export interface RetentionResult {
  messagesDeleted: number;
  byBoard: Record<string, number>;
}

export async function runRetention(
  database: AxonDatabase,
  now = Date.now(),
): Promise<RetentionResult> {
  const db = database.db;
  const boards = await db
    .selectFrom('boards')
    .select(['id', 'name', 'message_retention_days'])
    .where('message_retention_days', 'is not', null)
    .execute();
  const result: RetentionResult = { messagesDeleted: 0, byBoard: {} };
  for (const board of boards) {
    const cutoff = now - board.message_retention_days! * DAY_MS;
    let deleted = 0;
    for (;;) {
      const batch = await db
        .deleteFrom('messages')
        .where('seq', 'in', (eb) =>
          eb
            .selectFrom('messages')
            .select('seq')
            .where('board_id', '=', board.id)
            .where('created_at', '<', cutoff)
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
  return result;
}
