// Garbage collection of the chunk store: blobs no referenced manifest names, and stale scratch files
// (an upload or put cut short by a crash). Mark and sweep, with a grace period for work in progress.
import type { ChunkStore } from './chunk-store.js';
import type { Manifest } from './manifest.js';

export const DEFAULT_BLOB_GRACE_MS = 60 * 60 * 1000;
export const DEFAULT_SCRATCH_GRACE_MS = 24 * 60 * 60 * 1000;

export interface CollectGarbageOptions {
  store: ChunkStore;
  /** Every manifest still referenced by something this instance keeps. */
  referenced: Iterable<Manifest> | AsyncIterable<Manifest>;
  /**
   * Blobs written (or re-put) more recently than this are kept even when unreferenced: an upload in
   * progress has stored blobs whose manifest is not committed yet.
   */
  blobGraceMs?: number;
  /** Scratch files are removed once untouched this long (the first pass of a slow upload is still in use). */
  scratchGraceMs?: number;
  now?: Date;
}

export interface GarbageReport {
  removedBlobs: string[];
  removedScratch: string[];
  /** Unreferenced blobs spared because they are younger than the grace period. */
  sparedBlobs: string[];
}

export async function collectGarbage(options: CollectGarbageOptions): Promise<GarbageReport> {
  const { store } = options;
  const now = options.now ?? new Date();
  const blobCutoff = now.getTime() - (options.blobGraceMs ?? DEFAULT_BLOB_GRACE_MS);

  // The marks are taken before the sweep starts: a manifest committed during the sweep names blobs
  // younger than the grace period, which the sweep does not touch.
  const marked = new Set<string>();
  for await (const manifest of options.referenced) {
    for (const hash of manifest.chunks) marked.add(hash);
  }

  const removedBlobs: string[] = [];
  const sparedBlobs: string[] = [];
  for await (const blob of store.list()) {
    if (marked.has(blob.hash)) continue;
    if (blob.modifiedAt.getTime() > blobCutoff) sparedBlobs.push(blob.hash);
    else if (await store.delete(blob.hash)) removedBlobs.push(blob.hash);
  }
  // Only a store of local files has scratch files.
  const scratchCutoff = new Date(
    now.getTime() - (options.scratchGraceMs ?? DEFAULT_SCRATCH_GRACE_MS),
  );
  const removedScratch = (await store.blobFiles?.sweepScratch(scratchCutoff)) ?? [];
  return { removedBlobs, removedScratch, sparedBlobs };
}
