// What /api/health measures besides the database: free disk under the data directory, whether the
// chunk store's folder can be written, background services that fail; each problem is a reason
// the instance reports itself `degraded`.
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { ServiceState } from '../services/registry.js';

/** Below this much free space (or 5% of the disk) uploads and the database may soon fail. */
export const LOW_DISK_BYTES = 1024 * 1024 * 1024;
const LOW_DISK_FRACTION = 0.05;

export interface DiskStatus {
  free_bytes: number | null;
  total_bytes: number | null;
}

export type ChunkStoreStatus = 'ok' | 'unwritable';

export async function diskOf(dir: string): Promise<DiskStatus> {
  try {
    const s = await statfs(dir);
    return { free_bytes: s.bavail * s.bsize, total_bytes: s.blocks * s.bsize };
  } catch {
    return { free_bytes: null, total_bytes: null };
  }
}

/** The chunk store's folder, or the folder it will be made in on first upload, is writable. */
export async function chunkStoreOf(config: Config): Promise<ChunkStoreStatus> {
  let folder = config.chunkStoreDir;
  const found = await stat(folder).catch(() => undefined);
  if (found === undefined) folder = path.dirname(folder);
  else if (!found.isDirectory()) return 'unwritable';
  return access(folder, constants.W_OK | constants.X_OK).then(
    () => 'ok' as const,
    () => 'unwritable' as const,
  );
}

/** Why the instance is degraded, in words (empty when healthy). */
export function degradedReasons(input: {
  database: 'connected' | 'unreachable';
  disk: DiskStatus;
  chunkStore: ChunkStoreStatus;
  services: Record<string, ServiceState>;
  socksOk: boolean | null;
  /** Shared background jobs (every process's runs); a job whose last run failed degrades. */
  jobs?: readonly { name: string; last_error: string | null }[];
}): string[] {
  const reasons: string[] = [];
  if (input.database === 'unreachable') reasons.push('the database is unreachable');
  const { free_bytes: free, total_bytes: total } = input.disk;
  if (free === null) reasons.push('the free space of the data directory cannot be read');
  else if (free < LOW_DISK_BYTES || (total !== null && free < total * LOW_DISK_FRACTION))
    reasons.push(`the data directory's disk is nearly full (${free} bytes free)`);
  if (input.chunkStore !== 'ok') reasons.push('the chunk store folder is not a writable folder');
  for (const [name, state] of Object.entries(input.services))
    if (state === 'failing') reasons.push(`the background service ${name} is failing`);
  for (const job of input.jobs ?? [])
    if (job.last_error !== null)
      reasons.push(`the background job ${job.name} failed on its last run: ${job.last_error}`);
  if (input.socksOk === false) reasons.push("Tor's SOCKS port does not answer");
  return reasons;
}
