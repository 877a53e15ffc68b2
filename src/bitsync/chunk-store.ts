// The ChunkStore contract: blobs by chunk hash, behind a narrow interface so a shared or remote
// backend can replace the filesystem without touching the callers.
import type { SealedChunk } from './chunk-cipher.js';

/** A blob's bytes: whole, or as a stream (a blob fetched from a peer). */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * - `stored`: written under its name.
 * - `existing`: a valid blob was already there and was left untouched.
 * - `repaired`: a blob that failed its hash was there and was replaced by the valid one.
 */
export type PutOutcome = 'stored' | 'existing' | 'repaired';

export interface AddedBlob {
  /** The blob's chunk hash. */
  hash: string;
  outcome: PutOutcome;
}

export interface StoredBlob {
  hash: string;
  /** When it was last written or re-put: garbage collection spares blobs younger than its grace. */
  modifiedAt: Date;
}

export interface ChunkStore {
  has(hash: string): Promise<boolean>;
  /** The blob's bytes, unverified (the reader checks them), or undefined when absent. */
  get(hash: string): Promise<Buffer | undefined>;
  /**
   * Stores a blob under its chunk hash, atomically: a reader sees the whole blob or none. Throws
   * BlobRejectedError (nothing stored) when the bytes do not hash to `hash` or cannot be a blob.
   */
  put(hash: string, blob: BlobSource): Promise<PutOutcome>;
  /**
   * Stores a blob this process has just sealed under its chunk hash, computed from those very bytes
   * when it was sealed (so it is not hashed twice). Same atomicity and size limits as put; the
   * blob's bytes are durable when this resolves, its name once `flush` has resolved.
   */
  add(chunk: SealedChunk): Promise<AddedBlob>;
  /**
   * Makes the names of every blob added so far durable (one directory sync per folder touched,
   * instead of one per blob). Callers flush before they record anything that refers to the blobs.
   */
  flush(): Promise<void>;
  /** True when a blob was removed. */
  delete(hash: string): Promise<boolean>;
  list(): AsyncIterable<StoredBlob>;
  /**
   * A local directory, on the store's own disk, for scratch files such as the upload spool; its
   * leftovers (a crash mid-upload) are removed by sweepScratch. Undefined for stores with no disk.
   */
  readonly scratchDirectory: string | undefined;
  /** Removes scratch files last modified before `olderThan`; returns their names. */
  sweepScratch(olderThan: Date): Promise<string[]>;
}
