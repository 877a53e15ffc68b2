// One set of migrations for both dialects, applied in order at start and by `axon migrate`.
import { Migrator, type Kysely, type Migration, type MigrationResult } from 'kysely';
import type { AxonDatabase, Dialect } from './database.js';
import * as foundation from './migrations/0001_foundation.js';
import * as boards from './migrations/0002_boards.js';
import * as realtime from './migrations/0004_realtime.js';
import * as content from './migrations/0005_content.js';

interface DialectMigration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_foundation': foundation,
  '0002_boards': boards,
  '0004_realtime': realtime,
  '0005_content': content,
};

/** Every migration, in the order they apply. */
export const MIGRATION_NAMES = Object.keys(MIGRATIONS);

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
  const migrations: Record<string, Migration> = Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, m]) => [
      name,
      { up: (db: Kysely<unknown>) => m.up(db, database.dialect) },
    ]),
  );
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
