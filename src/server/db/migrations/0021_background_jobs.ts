// Background jobs that must run once per interval across every process of an instance (retention,
// clean-ups): a row per job that a process claims by moving `due_at` forward, plus the run and
// failure counts that /api/health and /metrics report. And when remote content was last read, so
// the cache of remote content evicts the least recently read first.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('background_jobs')
    .addColumn('name', 'text', (c) => c.primaryKey())
    // Unix ms before which no process starts the job again.
    .addColumn('due_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('runs', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('failures', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_started_at', 'bigint')
    .addColumn('last_finished_at', 'bigint')
    // The last failure's message, cut to 500 characters; null once a run succeeds.
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.alterTable('remote_fetches').addColumn('last_read_at', 'bigint').execute();
}
