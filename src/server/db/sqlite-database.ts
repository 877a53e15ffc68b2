// better-sqlite3 behind Kysely's SqliteDatabase interface, with the two things the bare driver lacks:
// JS booleans bound as 0/1 (so services write the same values on both dialects), a bounded cache
// of prepared statements (preparing is a large share of a small query's cost), and write-locking
// transactions.
import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { ByteCache } from '../services/byte-cache.js';

/** Prepared statements kept: about 256 of them, each re-prepared at most every ten minutes. */
const STATEMENT_BYTES = 4096;
const STATEMENT_CACHE_BYTES = 256 * STATEMENT_BYTES;
const STATEMENT_IDLE_MS = 10 * 60 * 1000;

export interface OpenedSqlite {
  database: SqliteDatabase;
  raw: Database.Database;
}

export function openSqlite(file: string): OpenedSqlite {
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  // FULL syncs the WAL on every commit: an acknowledged write survives a crash or a power cut.
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const cache = new ByteCache<Database.Statement>({
    maxBytes: STATEMENT_CACHE_BYTES,
    ttlMs: STATEMENT_IDLE_MS,
    sizeOf: () => STATEMENT_BYTES,
  });

  function prepare(text: string): SqliteStatement {
    // Kysely opens transactions with a bare BEGIN (deferred). IMMEDIATE takes the write lock at the
    // start, waiting on busy_timeout, where a deferred read that later writes would fail with
    // SQLITE_BUSY if another process (the CLI beside the server) wrote in between.
    const sql = /^begin$/i.test(text) ? 'begin immediate' : text;
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = raw.prepare(sql);
      cache.set(sql, statement);
    }
    const s = statement;
    return {
      reader: s.reader,
      all: (parameters) => s.all(bindable(parameters)),
      run: (parameters) => s.run(bindable(parameters)),
      iterate: (parameters) => s.iterate(bindable(parameters)),
    };
  }

  return {
    raw,
    database: {
      prepare,
      close: () => {
        cache.clear();
        raw.close();
      },
    },
  };
}

function bindable(parameters: ReadonlyArray<unknown>): unknown[] {
  return parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
