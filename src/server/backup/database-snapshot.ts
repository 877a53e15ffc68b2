// The database half of a backup. SQLite: the online backup API copies a consistent file while the
// server writes. PostgreSQL: every row of every table read in ONE repeatable-read, read-only
// transaction, written as JSON lines in foreign-key order so a restore can insert them as read.
import { createReadStream } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema } from '../db/schema.js';
import { openSqlite } from '../db/sqlite-database.js';

/** What the backup needs to know of the snapshot, read from the snapshot itself. */
export interface SnapshotFacts {
  migrations: string[];
  identity: { pubkey: string; fingerprint: string; private_key_sealed: string } | undefined;
  /** Every chunk hash a stored manifest lists. */
  chunks: Set<string>;
}

const ROWS_PER_FETCH = 500;

function chunksOf(manifestJson: string, into: Set<string>): void {
  const parsed = JSON.parse(manifestJson) as { chunks?: unknown };
  if (!Array.isArray(parsed.chunks)) return;
  for (const hash of parsed.chunks) if (typeof hash === 'string') into.add(hash);
}

/**
 * Copies the live SQLite database to `outFile` with the online backup API, then, in the copy only,
 * blanks the AXON_SECRET-sealed instance key (the backup carries it sealed under the passphrase).
 */
export async function snapshotSqlite(dbPath: string, outFile: string): Promise<SnapshotFacts> {
  const { raw } = openSqlite(dbPath);
  try {
    await raw.backup(outFile);
  } finally {
    raw.close();
  }
  const copy = new Database(outFile);
  try {
    copy.pragma('journal_mode = DELETE');
    const identity = copy
      .prepare('SELECT pubkey, fingerprint, private_key_sealed FROM instance_identity WHERE id = 1')
      .get() as SnapshotFacts['identity'];
    copy.prepare("UPDATE instance_identity SET private_key_sealed = ''").run();
    const chunks = new Set<string>();
    for (const row of copy.prepare('SELECT manifest FROM manifests').iterate())
      chunksOf((row as { manifest: string }).manifest, chunks);
    const migrations = (
      copy.prepare('SELECT name FROM axon_migrations ORDER BY name').all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
    copy.exec('VACUUM');
    return { migrations, identity, chunks };
  } finally {
    copy.close();
  }
}

/** Tables of the public schema, parents before children (foreign keys), and their stored columns. */
async function tablesInOrder(
  client: pg.ClientBase,
): Promise<Array<{ name: string; columns: string[] }>> {
  const tables = (
    await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
  ).rows.map((r) => r.table_name);
  const edges = (
    await client.query<{ child: string; parent: string }>(
      `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname = 'public'`,
    )
  ).rows;
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (ordered.includes(table) || visiting.has(table)) return;
    visiting.add(table);
    for (const e of edges) if (e.child === table && e.parent !== table) visit(e.parent);
    ordered.push(table);
  };
  tables.forEach(visit);
  const result = [];
  for (const name of ordered) {
    const columns = (
      await client.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [name],
      )
    ).rows.map((r) => r.column_name);
    result.push({ name, columns });
  }
  return result;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A row as one JSON line; bytea values become {"$b64": "..."}. */
function encodeRow(table: string, row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = Buffer.isBuffer(v) ? { $b64: v.toString('base64') } : v;
  return JSON.stringify({ t: table, r: out }) + '\n';
}

function decodeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      v !== null && typeof v === 'object' && typeof (v as { $b64?: unknown }).$b64 === 'string'
        ? Buffer.from((v as { $b64: string }).$b64, 'base64')
        : v;
  }
  return out;
}

export async function snapshotPostgres(url: string, outFile: string): Promise<SnapshotFacts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const out = await openFile(outFile, 'wx', 0o600);
  const facts: SnapshotFacts = { migrations: [], identity: undefined, chunks: new Set() };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const table of await tablesInOrder(client)) {
      const columns = table.columns.map(quote).join(', ');
      await client.query(
        `DECLARE backup_rows NO SCROLL CURSOR FOR SELECT ${columns} FROM ${quote(table.name)}`,
      );
      for (;;) {
        const { rows } = await client.query<Record<string, unknown>>(
          `FETCH ${ROWS_PER_FETCH} FROM backup_rows`,
        );
        if (rows.length === 0) break;
        let text = '';
        for (const row of rows) {
          if (table.name === 'manifests') chunksOf(row.manifest as string, facts.chunks);
          if (table.name === 'axon_migrations') facts.migrations.push(row.name as string);
          if (table.name === 'instance_identity') {
            facts.identity = row as unknown as NonNullable<SnapshotFacts['identity']>;
            text += encodeRow(table.name, { ...row, private_key_sealed: '' });
          } else text += encodeRow(table.name, row);
        }
        await out.write(text);
      }
      await client.query('CLOSE backup_rows');
    }
    await client.query('COMMIT');
    await out.sync();
  } finally {
    await out.close();
    await client.end();
  }
  facts.migrations.sort();
  return facts;
}

/** Changes a restore makes to the restored rows before they become visible (identity, re-key). */
export type AdjustRestored = (db: Kysely<DatabaseSchema>) => Promise<void>;

/**
 * Builds the restored SQLite database at `tempFile` from the backup's copy and applies `adjust`;
 * the caller renames it into place (the one step that makes the restore visible).
 */
export async function prepareSqlite(
  backupFile: string,
  tempFile: string,
  adjust: AdjustRestored,
): Promise<void> {
  const source = new Database(backupFile, { readonly: true });
  try {
    await source.backup(tempFile);
  } finally {
    source.close();
  }
  const { database, raw } = openSqlite(tempFile);
  raw.pragma('journal_mode = DELETE');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database }) });
  try {
    await db.transaction().execute(adjust);
  } finally {
    await db.destroy();
  }
}

const ROWS_PER_INSERT = 200;

/** Inserts every row of the dump and applies `adjust` in ONE transaction: all of it or nothing. */
export async function restorePostgres(
  rowsFile: string,
  db: Kysely<DatabaseSchema>,
  adjust: AdjustRestored,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    let table = '';
    let batch: Array<Record<string, unknown>> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const columns = Object.keys(batch[0]!);
      const values = batch.map((row) => sql`(${sql.join(columns.map((c) => sql`${row[c]}`))})`);
      await sql`INSERT INTO ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) OVERRIDING SYSTEM VALUE VALUES ${sql.join(values)}`.execute(
        trx,
      );
      batch = [];
    };
    const lines = createInterface({ input: createReadStream(rowsFile), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      const { t, r } = JSON.parse(line) as { t: string; r: Record<string, unknown> };
      if (t === 'axon_migrations') continue; // the target is migrated already
      if (t !== table || batch.length >= ROWS_PER_INSERT) {
        await flush();
        table = t;
      }
      batch.push(decodeRow(r));
    }
    await flush();
    // Identity columns continue after the restored rows.
    const serials = await sql<{ table_name: string; column_name: string }>`
      SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`.execute(
      trx,
    );
    for (const s of serials.rows) {
      await sql`SELECT setval(pg_get_serial_sequence(${s.table_name}, ${s.column_name}), COALESCE((SELECT max(${sql.ref(s.column_name)}) FROM ${sql.table(s.table_name)}), 0) + 1, false)`.execute(
        trx,
      );
    }
    await adjust(trx);
  });
}

/** True when no table but the migration list holds a row (the FTS index's own tables aside). */
export async function isEmptyDatabase(db: Kysely<DatabaseSchema>): Promise<boolean> {
  for (const table of await db.introspection.getTables()) {
    if (table.name === 'axon_migrations' || table.name.includes('_fts')) continue;
    const row = await sql`SELECT 1 AS one FROM ${sql.table(table.name)} LIMIT 1`.execute(db);
    if (row.rows.length > 0) return false;
  }
  return true;
}
