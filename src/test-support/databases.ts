// Throwaway databases for tests: a SQLite file in a temp folder, or a fresh PostgreSQL database on
// 127.0.0.1:5432 (AXON_TEST_PG_URL overrides the server), dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseConfig } from '../server/config.js';
import { openDatabase, type AxonDatabase, type Dialect } from '../server/db/database.js';
import { migrateToLatest } from '../server/db/migrate.js';

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export const PG_ADMIN_URL =
  process.env.AXON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  config: DatabaseConfig;
  /** DATABASE_URL for child processes. */
  url: string;
  dir: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'axon-test-'));
  if (dialect === 'sqlite') {
    const file = path.join(dir, 'axon.db');
    return {
      config: { dialect: 'sqlite', path: file },
      url: `sqlite:${file}`,
      dir,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `axon_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    config: { dialect: 'postgres', url: url.toString() },
    url: url.toString(),
    dir,
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One statement as the admin, on a fresh connection (CREATE/DROP DATABASE cannot run in a pool). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A migrated database, open. */
export async function openTestDatabase(
  dialect: Dialect,
): Promise<{ test: TestDatabase; database: AxonDatabase }> {
  const test = await createTestDatabase(dialect);
  const database = openDatabase(test.config);
  await migrateToLatest(database);
  return { test, database };
}
