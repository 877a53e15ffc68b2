// `axon backup`: a consistent snapshot of a running instance into a new backup directory, built
// under a temporary name and renamed into place once whole (a crash leaves no half backup).
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileChunkStore } from '../../bitsync/file-chunk-store.js';
import type { Config } from '../config.js';
import type { InstanceIdentity } from '../modules/federation/identity.js';
import {
  BACKUP_FORMAT,
  chunkPath,
  hashFile,
  IDENTITY_FILE,
  MANIFEST_CHECKSUM_FILE,
  MANIFEST_FILE,
  ROWS_FILE,
  sha256Hex,
  SQLITE_FILE,
  type BackupEntry,
  type BackupManifest,
} from './format.js';
import { snapshotPostgres, snapshotSqlite } from './database-snapshot.js';
import { sealInstanceKey } from './sealed-key.js';
import { silentProgress, type Progress } from './progress.js';
import { openBackup } from './verify.js';

export interface BackupOptions {
  config: Config;
  identity: InstanceIdentity;
  passphrase: string;
  /** An earlier backup whose chunks are not copied again. */
  incrementalFrom?: string;
  progress?: Progress;
}

export interface BackupSummary {
  dir: string;
  chunksCopied: number;
  chunksInBase: number;
  bytes: number;
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function createBackup(target: string, options: BackupOptions): Promise<BackupSummary> {
  const progress = options.progress ?? silentProgress;
  const dir = path.resolve(target);
  if (await exists(dir)) throw new BackupError(`${dir} exists already; choose a new name`);
  const base =
    options.incrementalFrom === undefined ? undefined : await openBackup(options.incrementalFrom);
  const work = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  await mkdir(path.join(work, 'database'), { recursive: true, mode: 0o700 });
  try {
    const entries: BackupEntry[] = [];
    const add = async (relative: string) => {
      const file = path.join(work, ...relative.split('/'));
      await fsyncFile(file);
      entries.push({ path: relative, ...(await hashFile(file)) });
    };

    progress.phase('database', 1);
    const { config } = options;
    const dbFile = config.database.dialect === 'sqlite' ? SQLITE_FILE : ROWS_FILE;
    const facts =
      config.database.dialect === 'sqlite'
        ? await snapshotSqlite(config.database.path, path.join(work, SQLITE_FILE))
        : await snapshotPostgres(config.database.url, path.join(work, ROWS_FILE));
    await add(dbFile);
    progress.step();
    if (facts.identity?.fingerprint !== options.identity.fingerprint)
      throw new BackupError(
        'the database holds no instance identity, or another one than this instance',
      );

    const der = options.identity.privateKey.export({ type: 'pkcs8', format: 'der' });
    await writeFile(
      path.join(work, IDENTITY_FILE),
      await sealInstanceKey(der, options.passphrase),
      { mode: 0o600 },
    );
    await add(IDENTITY_FILE);

    const inBase = new Map(
      (base?.manifest.entries ?? [])
        .filter((e) => e.path.startsWith('chunks/'))
        .map((e) => [e.path, e]),
    );
    const store = await FileChunkStore.open(config.chunkStoreDir);
    const hashes = [...facts.chunks].sort();
    let copied = 0;
    let bytes = 0;
    progress.phase('chunks', hashes.length);
    for (const hash of hashes) {
      const relative = chunkPath(hash);
      const earlier = inBase.get(relative);
      if (earlier !== undefined) {
        entries.push({ path: relative, size: earlier.size, sha256: earlier.sha256, in_base: true });
      } else {
        const file = path.join(work, ...relative.split('/'));
        await mkdir(path.dirname(file), { recursive: true });
        try {
          await copyFile(store.pathOf(hash), file);
        } catch {
          throw new BackupError(
            `blob ${hash} vanished while the backup ran (content deleted meanwhile?): run the backup again`,
          );
        }
        await add(relative);
        if (entries.at(-1)!.sha256 !== hash)
          throw new BackupError(
            `blob ${hash} in the chunk store is corrupt (run axon content verify)`,
          );
        copied++;
        bytes += entries.at(-1)!.size;
      }
      progress.step();
    }
    progress.done();

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      created_at: new Date().toISOString(),
      dialect: config.database.dialect,
      migrations: facts.migrations,
      identity: { fingerprint: options.identity.fingerprint, pubkey: options.identity.pubkey },
      base: base === undefined ? null : { path: base.dir, manifest_sha256: base.manifestSha256 },
      entries,
    };
    const text = JSON.stringify(manifest, null, 1);
    await writeFile(path.join(work, MANIFEST_FILE), text, { mode: 0o600 });
    await writeFile(path.join(work, MANIFEST_CHECKSUM_FILE), sha256Hex(Buffer.from(text)) + '\n');
    await fsyncFile(path.join(work, MANIFEST_FILE));
    await fsyncFile(path.join(work, MANIFEST_CHECKSUM_FILE));
    await rename(work, dir);
    return { dir, chunksCopied: copied, chunksInBase: hashes.length - copied, bytes };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
