// Opens the configured database (SQLite by default, PostgreSQL by URL) behind one Kysely type.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { DatabaseSchema } from './schema.js';
import { openSqlite } from './sqlite-database.js';

export type Dialect = DatabaseConfig['dialect'];

export interface AxonDatabase {
  db: Kysely<DatabaseSchema>;
  dialect: Dialect;
  /** Round-trips a trivial query; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 (counts, Unix-millisecond times) as JS numbers: every value we store is far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function openDatabase(config: DatabaseConfig): AxonDatabase {
  if (config.dialect === 'sqlite') {
    if (config.path !== ':memory:') createPrivately(config.path);
    const { database } = openSqlite(config.path);
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database }) });
    return wrap(db, 'sqlite');
  }
  const pool = new pg.Pool({ connectionString: config.url, max: 20 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  return wrap(db, 'postgres');
}

/**
 * Makes the database's folder (0700) and file (0600) before SQLite opens it, so neither is ever
 * readable by other users, whatever the umask. SQLite gives its -wal and -shm files the mode of the
 * database file.
 */
function createPrivately(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
}

function wrap(db: Kysely<DatabaseSchema>, dialect: Dialect): AxonDatabase {
  return {
    db,
    dialect,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
