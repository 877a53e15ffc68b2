// The backup archive: a directory holding manifest.json (every entry with its SHA-256), the
// database snapshot, the instance key sealed under the sysop's passphrase, and chunk blobs.
// docs/operations.md ("Backups") describes the layout; this module owns its constants and schema.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { z } from 'zod';

export const BACKUP_FORMAT = 'axon-backup-v1';
export const MANIFEST_FILE = 'manifest.json';
/** SHA-256 of manifest.json, hex: the root every other checksum hangs from. */
export const MANIFEST_CHECKSUM_FILE = 'manifest.json.sha256';
export const SQLITE_FILE = 'database/axon.db';
export const ROWS_FILE = 'database/rows.jsonl';
export const IDENTITY_FILE = 'identity.sealed';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const entrySchema = z.strictObject({
  /** Relative to the backup directory, forward slashes. */
  path: z
    .string()
    .regex(
      /^(database\/axon\.db|database\/rows\.jsonl|identity\.sealed|chunks\/[0-9a-f]{2}\/[0-9a-f]{64})$/,
    ),
  size: z.int().nonnegative(),
  sha256: hex64,
  /** The bytes are in the base backup (incremental mode), not in this one. */
  in_base: z.boolean().optional(),
});

export const backupManifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  created_at: z.iso.datetime(),
  dialect: z.enum(['sqlite', 'postgres']),
  migrations: z.array(z.string()),
  identity: z.strictObject({ fingerprint: hex64, pubkey: z.string() }),
  /** The earlier backup this one is incremental from: its absolute path and manifest checksum. */
  base: z.strictObject({ path: z.string(), manifest_sha256: hex64 }).nullable(),
  entries: z.array(entrySchema),
});

export type BackupEntry = z.infer<typeof entrySchema>;
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export const chunkPath = (hash: string) => `chunks/${hash.slice(0, 2)}/${hash}`;

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 and size of a file, streamed (a database file may be large). */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of createReadStream(file)) {
    hash.update(piece as Buffer);
    size += (piece as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** A backup that fails a check: nothing was restored. */
export class BackupInvalidError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `the backup is damaged or incomplete: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
    );
    this.name = 'BackupInvalidError';
  }
}
