// `axon restore`: onto an EMPTY instance only. Everything is checked first (every checksum, the
// passphrase, the target is empty); then blobs are written (idempotent, named by hash) and the
// database appears last in one step (SQLite: a rename; PostgreSQL: one transaction). A restore
// killed at any moment leaves the database empty, so it can simply be run again.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { open as openDirectory } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { fingerprintOf, generateRsaKeyPair, privateKeyFromDer } from '../../crypto/keys.js';
import { rekeyManifest } from '../../bitsync/envelope.js';
import { FileChunkStore } from '../../bitsync/file-chunk-store.js';
import { parseManifest, serializeManifest } from '../../bitsync/manifest.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../db/migrate.js';
import type { DatabaseSchema } from '../db/schema.js';
import { sealInstanceKey } from '../modules/federation/identity.js';
import { makeKeyChangeNotice, queueKeyChangeNotices } from '../modules/federation/key-change.js';
import type { InstanceKeys } from '../secrets.js';
import { isEmptyDatabase, prepareSqlite, restorePostgres } from './database-snapshot.js';
import { BackupInvalidError, IDENTITY_FILE, ROWS_FILE, SQLITE_FILE } from './format.js';
import { silentProgress, type Progress } from './progress.js';
import { openInstanceKey } from './sealed-key.js';
import { locate, openBackup, verifyBackup } from './verify.js';

const MANIFESTS_PER_PAGE = 200;

/** The instance key changed: a signed notice waits for each peer (federation/key-change.ts). */
export interface KeyChange {
  previousFingerprint: string;
  fingerprint: string;
  pubkey: string;
  /** Peers a key-change notice is queued for (sent once the server runs). */
  peersNotified: number;
}

export interface RestoreOptions {
  config: Config;
  /** Called once the backup has passed every check (loading may create data/secret.key). */
  keys: () => InstanceKeys;
  passphrase: string;
  /** Give the restored instance a new key; every manifest the old key could open gets an envelope for it. */
  newIdentity?: boolean;
  progress?: Progress;
}

export interface RestoreSummary {
  chunks: number;
  fingerprint: string;
  /** Present with newIdentity: what federation must announce to peers. */
  keyChange?: KeyChange;
  manifestsRekeyed: number;
}

export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

async function targetIsEmpty(config: Config): Promise<boolean> {
  if (config.database.dialect === 'sqlite') {
    if (!existsSync(config.database.path)) return true;
  }
  const database = openDatabase(config.database);
  try {
    return await isEmptyDatabase(database.db);
  } finally {
    await database.close();
  }
}

/** Re-key: an envelope for the new instance key on every manifest the old instance key opens. */
async function rekeyAll(
  db: Kysely<DatabaseSchema>,
  oldKey: KeyObject,
  newPubkey: string,
): Promise<number> {
  const oldFingerprint = fingerprintOf(createPublicKey(oldKey));
  let after = '';
  let rekeyed = 0;
  for (;;) {
    const page = await db
      .selectFrom('manifests')
      .select(['content_hash', 'manifest'])
      .where('content_hash', '>', after)
      .orderBy('content_hash')
      .limit(MANIFESTS_PER_PAGE)
      .execute();
    if (page.length === 0) return rekeyed;
    for (const row of page) {
      const manifest = parseManifest(row.manifest);
      // Content only users' keys open (private messages) stays theirs alone.
      if (manifest.encrypted_aes_keys[oldFingerprint] === undefined) continue;
      const updated = serializeManifest(rekeyManifest(manifest, oldKey, [newPubkey]));
      await db
        .updateTable('manifests')
        .set({ manifest: updated })
        .where('content_hash', '=', row.content_hash)
        .execute();
      rekeyed++;
    }
    after = page.at(-1)!.content_hash;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await openDirectory(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves the restored SQLite file into place; the empty database it replaces goes with its WAL. */
async function installSqlite(prepared: string, target: string): Promise<void> {
  if (existsSync(target)) {
    // Fold any WAL of the empty target into it, so no stale -wal could be replayed on the new file.
    const old = new Database(target);
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
  }
  await rm(`${target}-wal`, { force: true });
  await rm(`${target}-shm`, { force: true });
  await rename(prepared, target);
  await syncDirectory(path.dirname(target));
}

export async function restoreBackup(
  source: string,
  options: RestoreOptions,
): Promise<RestoreSummary> {
  const progress = options.progress ?? silentProgress;
  const { config } = options;
  const backup = await openBackup(source);
  const { manifest } = backup;
  if (manifest.dialect !== config.database.dialect)
    throw new RestoreRefusedError(
      `this backup is of a ${manifest.dialect} database; DATABASE_URL points at ${config.database.dialect}`,
    );
  const unknown = manifest.migrations.filter((m) => !MIGRATION_NAMES.includes(m));
  if (unknown.length > 0)
    throw new RestoreRefusedError(
      `the backup was made by a newer Axon (migrations ${unknown.join(', ')}); upgrade first`,
    );
  if (manifest.dialect === 'postgres' && manifest.migrations.length !== MIGRATION_NAMES.length)
    throw new RestoreRefusedError(
      'restore a PostgreSQL backup with the Axon version that made it, then upgrade',
    );

  const problems = await verifyBackup(backup, progress);
  if (problems.length > 0) throw new BackupInvalidError(problems);
  const identityEntry = manifest.entries.find((e) => e.path === IDENTITY_FILE);
  const dbEntry = manifest.entries.find(
    (e) => e.path === (manifest.dialect === 'sqlite' ? SQLITE_FILE : ROWS_FILE),
  );
  if (identityEntry === undefined || dbEntry === undefined)
    throw new BackupInvalidError(['the manifest lists no database or no instance key']);
  const oldKey = privateKeyFromDer(
    await openInstanceKey(
      await readFile(locate(backup, identityEntry)!, 'utf8'),
      options.passphrase,
    ),
  );
  if (fingerprintOf(createPublicKey(oldKey)) !== manifest.identity.fingerprint)
    throw new BackupInvalidError([
      'the sealed instance key is not the identity the manifest names',
    ]);
  if (!(await targetIsEmpty(config)))
    throw new RestoreRefusedError(
      'the target instance is not empty: restore only onto a fresh data directory / database',
    );

  // Checks done: from here on, writes.
  const chunks = manifest.entries.filter((e) => e.path.startsWith('chunks/'));
  const store = await FileChunkStore.open(config.chunkStoreDir);
  progress.phase('chunks', chunks.length);
  for (const entry of chunks) {
    await store.put(entry.sha256, await readFile(locate(backup, entry)!));
    progress.step();
  }
  await store.flush();
  progress.done();

  const fresh = options.newIdentity === true ? await generateRsaKeyPair() : undefined;
  const identity = fresh ?? {
    publicKey: manifest.identity.pubkey,
    fingerprint: manifest.identity.fingerprint,
    privateKeyDer: oldKey.export({ type: 'pkcs8', format: 'der' }),
  };
  const { identitySealKey } = options.keys();
  let manifestsRekeyed = 0;
  let peersNotified = 0;
  const adjust = async (db: Kysely<DatabaseSchema>) => {
    await db
      .updateTable('instance_identity')
      .set({
        pubkey: identity.publicKey,
        fingerprint: identity.fingerprint,
        private_key_sealed: sealInstanceKey(identitySealKey, identity.privateKeyDer),
      })
      .where('id', '=', 1)
      .execute();
    if (fresh !== undefined) manifestsRekeyed = await rekeyAll(db, oldKey, fresh.publicKey);
  };

  progress.phase('database', 1);
  const dbFile = locate(backup, dbEntry)!;
  if (config.database.dialect === 'sqlite') {
    const prepared = `${config.database.path}.restoring`;
    await rm(prepared, { force: true }); // a restore killed earlier
    await prepareSqlite(dbFile, prepared, adjust);
    await installSqlite(prepared, config.database.path);
  }
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database);
    if (config.database.dialect === 'postgres') await restorePostgres(dbFile, database.db, adjust);
    if (fresh !== undefined) {
      // Peers learn of the new key through the signed channel once the server starts; they accept
      // it only after their sysop confirms (docs/federation.md, "Key-change notices").
      const notice = makeKeyChangeNotice(
        { pubkey: manifest.identity.pubkey, privateKey: oldKey },
        { pubkey: fresh.publicKey, privateKey: privateKeyFromDer(fresh.privateKeyDer) },
      );
      peersNotified = await queueKeyChangeNotices(database.db, notice);
    }
    await sql`SELECT 1`.execute(database.db);
  } finally {
    await database.close();
  }
  progress.step();
  progress.done();
  return {
    chunks: chunks.length,
    fingerprint: identity.fingerprint,
    manifestsRekeyed,
    ...(fresh === undefined
      ? {}
      : {
          keyChange: {
            previousFingerprint: manifest.identity.fingerprint,
            fingerprint: fresh.fingerprint,
            pubkey: fresh.publicKey,
            peersNotified,
          },
        }),
  };
}
