// Login and recovery attempts per account name (hashed), shared by every process of an instance so
// the slowdown of docs/security.md holds however many processes answer.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('attempt_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('attempt_counters_window')
    .on('attempt_counters')
    .column('window_start')
    .execute();
}
