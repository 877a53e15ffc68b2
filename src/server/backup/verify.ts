// `axon backup verify`: reads the manifest (checked against its own checksum) and hashes every
// entry, following an incremental backup's entries into its base.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BackupInvalidError,
  backupManifestSchema,
  hashFile,
  MANIFEST_CHECKSUM_FILE,
  MANIFEST_FILE,
  sha256Hex,
  type BackupEntry,
  type BackupManifest,
} from './format.js';
import { silentProgress, type Progress } from './progress.js';

export interface OpenedBackup {
  dir: string;
  manifest: BackupManifest;
  manifestSha256: string;
  base: OpenedBackup | undefined;
}

/** Reads and checks the manifest (and the base's, recursively); BackupInvalidError when wrong. */
export async function openBackup(dir: string): Promise<OpenedBackup> {
  const root = path.resolve(dir);
  let text: Buffer;
  let expected: string;
  try {
    text = await readFile(path.join(root, MANIFEST_FILE));
    expected = (await readFile(path.join(root, MANIFEST_CHECKSUM_FILE), 'utf8')).trim();
  } catch {
    throw new BackupInvalidError([`${root} is not an Axon backup (no ${MANIFEST_FILE})`]);
  }
  const actual = sha256Hex(text);
  if (actual !== expected)
    throw new BackupInvalidError([`${MANIFEST_FILE} does not match its checksum`]);
  const parsed = backupManifestSchema.safeParse(JSON.parse(text.toString('utf8')));
  if (!parsed.success)
    throw new BackupInvalidError([
      `${MANIFEST_FILE} is not a valid manifest: ${parsed.error.issues[0]?.message ?? ''}`,
    ]);
  const manifest = parsed.data;
  let base: OpenedBackup | undefined;
  if (manifest.base !== null) {
    base = await openBackup(manifest.base.path);
    if (base.manifestSha256 !== manifest.base.manifest_sha256)
      throw new BackupInvalidError([
        `the base backup at ${manifest.base.path} is not the one this backup was made from`,
      ]);
  }
  return { dir: root, manifest, manifestSha256: actual, base };
}

/** Where an entry's bytes are: in this backup or, for an incremental one, in its base chain. */
export function locate(backup: OpenedBackup, entry: BackupEntry): string | undefined {
  if (entry.in_base !== true) return path.join(backup.dir, ...entry.path.split('/'));
  const inBase = backup.base?.manifest.entries.find((e) => e.path === entry.path);
  return inBase === undefined || backup.base === undefined
    ? undefined
    : locate(backup.base, inBase);
}

/** Every problem found (empty when the backup is whole). */
export async function verifyBackup(
  backup: OpenedBackup,
  progress: Progress = silentProgress,
): Promise<string[]> {
  const problems: string[] = [];
  progress.phase('verify', backup.manifest.entries.length);
  for (const entry of backup.manifest.entries) {
    const file = locate(backup, entry);
    if (file === undefined) problems.push(`${entry.path}: not in the base backup`);
    else {
      try {
        const { sha256, size } = await hashFile(file);
        if (size !== entry.size || sha256 !== entry.sha256)
          problems.push(`${entry.path}: checksum mismatch`);
      } catch {
        problems.push(`${entry.path}: missing`);
      }
    }
    progress.step();
  }
  progress.done();
  return problems;
}
