// Which process runs a background job now: every process ticks, and the one whose conditional
// UPDATE moves the job's `due_at` forward runs it; the others see 0 rows changed and wait. The
// claim is one statement, so it holds on SQLite and on PostgreSQL alike, with any number of
// processes. A process that dies mid-run holds the job only until `due_at`.
import type { AxonDatabase } from '../db/database.js';

const ERROR_MAX = 500;

export interface JobRecord {
  name: string;
  runs: number;
  failures: number;
  last_started_at: number | null;
  last_finished_at: number | null;
  last_error: string | null;
}

export class JobClaims {
  constructor(private readonly database: AxonDatabase) {}

  /** True when this process may run `name` now; the next claim waits `intervalMs`. */
  async claim(name: string, intervalMs: number, now = Date.now()): Promise<boolean> {
    const db = this.database.db;
    await db
      .insertInto('background_jobs')
      .values({ name })
      .onConflict((c) => c.column('name').doNothing())
      .execute();
    const result = await db
      .updateTable('background_jobs')
      .set((eb) => ({
        due_at: now + intervalMs,
        runs: eb('runs', '+', 1),
        last_started_at: now,
      }))
      .where('name', '=', name)
      .where('due_at', '<=', now)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Records the end of a claimed run; a failure keeps its message (cut short). */
  async finished(name: string, error?: unknown, now = Date.now()): Promise<void> {
    const db = this.database.db;
    if (error === undefined) {
      await db
        .updateTable('background_jobs')
        .set({ last_finished_at: now, last_error: null })
        .where('name', '=', name)
        .execute();
      return;
    }
    const message = (error instanceof Error ? error.message : String(error)).slice(0, ERROR_MAX);
    await db
      .updateTable('background_jobs')
      .set((eb) => ({
        last_finished_at: now,
        last_error: message,
        failures: eb('failures', '+', 1),
      }))
      .where('name', '=', name)
      .execute();
  }

  /** Every job that has run at least once, by name. */
  async list(): Promise<JobRecord[]> {
    return this.database.db
      .selectFrom('background_jobs')
      .select(['name', 'runs', 'failures', 'last_started_at', 'last_finished_at', 'last_error'])
      .orderBy('name')
      .execute();
  }
}
