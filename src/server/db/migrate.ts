// One set of migrations for both dialects, applied in order at start and by `axon migrate`.
// All pending migrations run in ONE transaction that first takes a cross-process lock (SQLite:
// BEGIN IMMEDIATE; PostgreSQL: an advisory lock): two processes starting together apply each
// migration once, and a crash mid-way leaves the schema as it was. (Kysely's Migrator runs SQLite
// migrations outside any transaction and without a lock, which is why it is not used.)
import { sql, type Kysely } from 'kysely';
import type { AxonDatabase, Dialect } from './database.js';
import * as foundation from './migrations/0001_foundation.js';
import * as boards from './migrations/0002_boards.js';
import * as realtime from './migrations/0004_realtime.js';
import * as content from './migrations/0005_content.js';
import * as attempts from './migrations/0006_attempts.js';
import * as federation from './migrations/0007_federation.js';
import * as remoteContent from './migrations/0011_remote_content.js';
import * as federationLog from './migrations/0010_federation_log.js';
import * as applets from './migrations/0012_applets.js';
import * as forum from './migrations/0013_forum.js';
import * as backgroundJobs from './migrations/0021_background_jobs.js';
import * as remotePrivateMessages from './migrations/0017_remote_private_messages.js';
import * as federationLimits from './migrations/0014_federation_limits.js';
import * as federatedActions from './migrations/0018_federated_actions.js';
import * as federationAuthors from './migrations/0015_federation_authors.js';
import * as federatedRooms from './migrations/0016_federated_rooms.js';
import * as appletReview from './migrations/0019_applet_review.js';
import * as notifications from './migrations/0022_notifications.js';
import * as agents from './migrations/0027_agents.js';
import * as messageEdits from './migrations/0023_message_edits.js';
import * as readPositions from './migrations/0020_read_positions.js';

interface DialectMigration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_foundation': foundation,
  '0002_boards': boards,
  '0004_realtime': realtime,
  '0005_content': content,
  '0006_attempts': attempts,
  '0007_federation': federation,
  '0011_remote_content': remoteContent,
  '0010_federation_log': federationLog,
  '0012_applets': applets,
  '0013_forum': forum,
  '0021_background_jobs': backgroundJobs,
  '0017_remote_private_messages': remotePrivateMessages,
  '0014_federation_limits': federationLimits,
  '0018_federated_actions': federatedActions,
  '0015_federation_authors': federationAuthors,
  '0016_federated_rooms': federatedRooms,
  '0019_applet_review': appletReview,
  '0022_notifications': notifications,
  '0027_agents': agents,
  '0023_message_edits': messageEdits,
  '0020_read_positions': readPositions,
};

/** Every migration, in the order they apply. */
export const MIGRATION_NAMES = Object.keys(MIGRATIONS).sort();

/** Any 64-bit number shared by all Axon processes: the advisory lock that serializes migrations. */
const MIGRATION_LOCK = 0x4158_4f4e_4d49;

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(
      `migration ${migration ?? '(unknown)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'MigrationError';
  }
}

/** Applies every pending migration; returns the names applied now. */
export async function migrateToLatest(database: AxonDatabase): Promise<string[]> {
  const applied: string[] = [];
  let current: string | undefined;
  try {
    await database.db.transaction().execute(async (trx) => {
      const db = trx as unknown as Kysely<unknown>;
      if (database.dialect === 'postgres')
        await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(db);
      await sql`CREATE TABLE IF NOT EXISTS axon_migrations (name text PRIMARY KEY, applied_at bigint NOT NULL)`.execute(
        db,
      );
      const done = new Set(
        (await sql<{ name: string }>`SELECT name FROM axon_migrations`.execute(db)).rows.map(
          (r) => r.name,
        ),
      );
      for (const name of MIGRATION_NAMES) {
        if (done.has(name)) continue;
        current = name;
        await MIGRATIONS[name]!.up(db, database.dialect);
        await sql`INSERT INTO axon_migrations (name, applied_at) VALUES (${name}, ${Date.now()})`.execute(
          db,
        );
        applied.push(name);
      }
    });
  } catch (error) {
    throw new MigrationError(current, error);
  }
  return applied;
}
