// The ChunkStore contract: blobs by chunk hash, behind a narrow interface so a shared or remote
// backend can replace the filesystem without touching the callers.
import type { SealedChunk, SealedChunkFile } from './chunk-cipher.js';

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
   * Present when the store keeps each blob as a file on this machine (FileChunkStore): the crypto
   * workers then read and write blob files themselves, so a blob's bytes never cross threads. Other
   * stores (in memory, remote) are used through the methods above alone.
   */
  readonly blobFiles?: BlobFiles;
}

/** The capabilities of a store that keeps each blob as a local file, beyond ChunkStore's. */
export interface BlobFiles {
  /**
   * A folder on the blobs' own file system for scratch files: new blob files before they are named,
   * the first pass of a creation. Leftovers (a crash mid-upload) are removed by sweepScratch.
   */
  readonly scratchDirectory: string;
  /** Removes scratch files last modified before `olderThan`; returns their names. */
  sweepScratch(olderThan: Date): Promise<string[]>;
  /** Where the blob named `hash` is (or would be) kept. */
  pathOf(hash: string): string;
  /** A fresh path, on the blobs' file system, where a new blob file may be created. */
  scratchFile(): string;
  /**
   * Names a blob file sealed and fsynced at a scratchFile path: it becomes the blob under its chunk
   * hash, as `add` would store it (same outcomes; the name is durable once `flush` has resolved).
   * The scratch file is gone when this settles, whatever the outcome.
   */
  adopt(chunk: SealedChunkFile): Promise<AddedBlob>;
}
