// The boards bench's database: a throwaway SQLite folder or PostgreSQL database, its schema made by
// the server's own migrations, and messages bulk-inserted into it (while no server holds it)
// through the typed Kysely schema, so a schema change breaks this file's build, not its figures.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Insertable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { DatabaseConfig } from '../../src/server/config.js';
import { openDatabase, type AxonDatabase, type Dialect } from '../../src/server/db/database.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { MessagesTable } from '../../src/server/db/schema.js';
import { cleanUpOnExit, fmt, say, throwawayPostgres } from '../support.js';
import { PROGRESS_EVERY, SEED_SIGNATURE } from './options.js';
import type { TextGenerator } from './text.js';

// Bound parameters per statement: SQLite allows 32,766, PostgreSQL 65,535.
const MAX_PARAMETERS: Record<Dialect, number> = { sqlite: 32_000, postgres: 65_000 };
// Statements per transaction.
const STATEMENTS_PER_COMMIT = 10;

export interface SeedBoard {
  id: string;
  count: number;
}

export interface Author {
  id: string;
  fingerprint: string;
  pem: string;
  nickname: string;
}

export interface BenchDatabase {
  dialect: Dialect;
  config: DatabaseConfig;
  dataDir: string;
  /** Extra server environment: the database it uses. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A fresh data folder, and on PostgreSQL a fresh database; both undone on any exit. */
export async function benchDatabase(dialect: Dialect): Promise<BenchDatabase> {
  const exitCleanups = cleanUpOnExit();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `axon-bench-boards-${dialect}-`));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  exitCleanups.add(removeDir);
  const postgres = dialect === 'postgres' ? await throwawayPostgres('axon_bench') : undefined;
  return {
    dialect,
    config:
      postgres === undefined
        ? { dialect: 'sqlite', path: path.join(dataDir, 'axon.db') }
        : { dialect: 'postgres', url: postgres.url },
    dataDir,
    env: postgres === undefined ? {} : { DATABASE_URL: postgres.url },
    drop: async () => {
      await postgres?.drop();
      removeDir();
      exitCleanups.delete(removeDir);
    },
  };
}

/** Opens the database, brings it to the latest migration, runs `use`, closes it. */
export async function withDatabase<T>(
  config: DatabaseConfig,
  use: (database: AxonDatabase) => Promise<T>,
): Promise<T> {
  const database = openDatabase(config);
  try {
    await migrateToLatest(database);
    return await use(database);
  } finally {
    await database.close();
  }
}

export const promoteSysop = (config: DatabaseConfig, username: string) =>
  withDatabase(config, async ({ db }) => {
    await db
      .updateTable('users')
      .set({ is_sysop: true })
      .where('username_lower', '=', username)
      .execute();
  });

export const authorsNamed = (config: DatabaseConfig, usernames: readonly string[]) =>
  withDatabase(config, ({ db }) =>
    db
      .selectFrom('users')
      .select(['id', 'fingerprint', 'pubkey as pem', 'nickname'])
      .where('username_lower', 'in', usernames)
      .orderBy('username_lower')
      .execute(),
  ) satisfies Promise<Author[]>;

interface SeedRow {
  id: string;
  boardId: string;
  /** 1-based position of the row among its board's seeded rows. */
  ordinal: number;
  author: Author;
  subject: string;
  body: string;
  createdAt: number;
}

/**
 * The boards' messages interleaved in proportion (as boards grow side by side), authors in turn,
 * created_at increasing by 1 ms up to a minute ago.
 */
function* seedRows(boards: readonly SeedBoard[], authors: readonly Author[], text: TextGenerator) {
  const total = boards.reduce((sum, b) => sum + b.count, 0);
  const emitted = boards.map(() => 0);
  const start = Date.now() - 60_000 - total;
  for (let i = 0; i < total; i++) {
    let pick = 0;
    let lag = -Infinity;
    for (const [b, board] of boards.entries()) {
      const behind = (board.count * (i + 1)) / total - emitted[b]!;
      if (behind > lag) {
        lag = behind;
        pick = b;
      }
    }
    emitted[pick]!++;
    const row: SeedRow = {
      id: uuidv7(),
      boardId: boards[pick]!.id,
      ordinal: emitted[pick]!,
      author: authors[i % authors.length]!,
      ...text.message(),
      createdAt: start + i,
    };
    yield row;
  }
}

class Progress {
  private readonly started = performance.now();
  private next = PROGRESS_EVERY;
  constructor(private readonly total: number) {}
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
  tick(done: number): void {
    if (done < this.next && done < this.total) return;
    this.next = done + PROGRESS_EVERY;
    const s = this.seconds();
    say(`  ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} rows, ${fmt(s)} s`);
  }
}

/**
 * The search index, taken away for a bulk load and put back from its own stored definition (no
 * copy of the migration's SQL here): SQLite's FTS insert trigger, rebuilt in one pass after, about
 * 3× faster than row by row; PostgreSQL's GIN index, created again after the load.
 */
async function suspendSearchIndex(database: AxonDatabase): Promise<() => Promise<void>> {
  const { db } = database;
  if (database.dialect === 'sqlite') {
    const trigger = async () =>
      (
        await sql<{ sql: string }>`SELECT sql FROM sqlite_master
          WHERE type = 'trigger' AND name = 'messages_fts_insert'`.execute(db)
      ).rows[0]?.sql;
    const definition = await trigger();
    if (definition === undefined) throw new Error('no messages_fts_insert trigger to suspend');
    await sql`DROP TRIGGER messages_fts_insert`.execute(db);
    return async () => {
      await sql.raw(definition).execute(db);
      if ((await trigger()) !== definition) throw new Error('the FTS trigger did not come back');
      await sql`INSERT INTO messages_fts(messages_fts) VALUES('rebuild')`.execute(db);
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
    };
  }
  const definition = (
    await sql<{ indexdef: string }>`SELECT indexdef FROM pg_indexes
      WHERE schemaname = current_schema() AND indexname = 'messages_search'`.execute(db)
  ).rows[0]?.indexdef;
  if (definition === undefined) throw new Error('no messages_search index to suspend');
  await sql`DROP INDEX messages_search`.execute(db);
  return async () => {
    await sql.raw(definition).execute(db);
    // VACUUM too, as autovacuum would have by the time a board holds a million messages: hint
    // bits and the visibility map set, so the first reads do not pay for writing them.
    await sql`VACUUM (ANALYZE) messages`.execute(db);
    await sql`ANALYZE`.execute(db);
  };
}

/**
 * Inserts the boards' messages as a post would leave them (board_seq continuing each board's
 * event count, the authors' keys known), in multi-row INSERTs; the search index is rebuilt after.
 */
export function seedMessages(
  config: DatabaseConfig,
  boards: readonly SeedBoard[],
  authors: readonly Author[],
  text: TextGenerator,
): Promise<void> {
  return withDatabase(config, async (database) => {
    const { db, dialect } = database;
    // Nothing else uses the database meanwhile, and it is thrown away after: no durability needed.
    if (dialect === 'sqlite') {
      await sql`PRAGMA synchronous = OFF`.execute(db);
      await sql`PRAGMA cache_size = -262144`.execute(db);
    } else {
      await sql`SET synchronous_commit = off`.execute(db);
      await sql`SET maintenance_work_mem = '512MB'`.execute(db);
    }
    const now = Date.now();
    await db
      .insertInto('pubkeys')
      .values(authors.map((a) => ({ fingerprint: a.fingerprint, pem: a.pem, first_seen: now })))
      .onConflict((oc) => oc.column('fingerprint').doNothing())
      .execute();
    const eventBase = new Map(
      (
        await db
          .selectFrom('boards')
          .select(['id', 'event_seq'])
          .where(
            'id',
            'in',
            boards.map((b) => b.id),
          )
          .execute()
      ).map((b) => [b.id, Number(b.event_seq)]),
    );

    const total = boards.reduce((sum, b) => sum + b.count, 0);
    const progress = new Progress(total);
    const rows = seedRows(boards, authors, text);
    const toInsert = (r: SeedRow): Insertable<MessagesTable> => ({
      id: r.id,
      board_id: r.boardId,
      board_ref: r.boardId,
      parent_id: null,
      thread_id: r.id,
      author_id: r.author.id,
      author_fingerprint: r.author.fingerprint,
      author_nickname: r.author.nickname,
      subject: r.subject,
      body: r.body,
      signature: SEED_SIGNATURE,
      board_seq: eventBase.get(r.boardId)! + r.ordinal,
      created_at: r.createdAt,
    });
    const sample = {
      id: '',
      boardId: boards[0]!.id,
      ordinal: 0,
      author: authors[0]!,
      createdAt: 0,
    };
    const columns = Object.keys(toInsert({ ...sample, subject: '', body: '' })).length;
    const perStatement = Math.floor(MAX_PARAMETERS[dialect] / columns);

    const restore = await suspendSearchIndex(database);
    let restored = false;
    try {
      for (let done = 0; done < total;) {
        done += await db.transaction().execute(async (trx) => {
          let inserted = 0;
          for (let s = 0; s < STATEMENTS_PER_COMMIT; s++) {
            const batch: Array<Insertable<MessagesTable>> = [];
            for (let next = rows.next(); next.done !== true; next = rows.next()) {
              batch.push(toInsert(next.value));
              if (batch.length === perStatement) break;
            }
            if (batch.length === 0) break;
            await trx.insertInto('messages').values(batch).execute();
            inserted += batch.length;
          }
          return inserted;
        });
        progress.tick(done);
      }
      for (const b of boards) {
        await db
          .updateTable('boards')
          .set({ event_seq: eventBase.get(b.id)! + b.count })
          .where('id', '=', b.id)
          .execute();
      }
      const indexStart = progress.seconds();
      restored = true;
      await restore();
      say(
        `  search index back (from its stored definition) in ` +
          `${fmt(progress.seconds() - indexStart)} s; seeding took ${fmt(progress.seconds())} s`,
      );
    } finally {
      if (!restored) await restore();
    }
  });
}
