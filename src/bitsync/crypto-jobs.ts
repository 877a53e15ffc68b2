// The messages between the crypto worker pool (crypto-workers.ts) and each of its threads
// (crypto-worker.ts): one job out, one reply back, matched by id. Buffers travel as transferred
// ArrayBuffers (no copy) both ways.

/** Where sealed bytes go straight from the worker: a new file. */
export type SealTarget = { file: string };
/** Where a blob to open comes from: bytes handed over. */
export type BlobLocation = { bytes: Uint8Array };

/** What the worker checks before decrypting, in the order every reader must follow. */
export interface OpenChecks {
  /** SHA-256 of the blob (hex), checked before anything else. */
  expectedHash?: string;
  /** The blob's length, checked after its hash. */
  expectedLength?: number;
}

/** What guards a blob file between the two passes of a two-pass seal (see encryptToFileInWorker). */
export interface PassGuard {
  /** A key for this one creation, never stored. */
  macKey: Uint8Array;
  /** Unique per file under that key. */
  macNonce: Uint8Array;
}

export interface SealJob {
  op: 'seal';
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  /** Also hash the sealed bytes (a blob's chunk hash), while they are hot in this core's cache. */
  hash: boolean;
}
export interface SealToFileJob extends Omit<SealJob, 'op'> {
  op: 'sealToFile';
  target: SealTarget;
  /** Transfer the plaintext's buffer back once sealed, to be filled again. */
  giveBack: boolean;
}
export interface OpenJob extends OpenChecks {
  op: 'open';
  key: Uint8Array;
  aad: Uint8Array;
  from: BlobLocation;
}
export interface OpenFileJob extends OpenChecks {
  op: 'openFile';
  key: Uint8Array;
  aad: Uint8Array;
  /** The blob file, read by the worker into the shared slot numbered `slot`. */
  file: string;
  slot: number;
}
export interface EncryptToFileJob extends PassGuard {
  op: 'encryptToFile';
  key: Uint8Array;
  nonce: Uint8Array;
  plaintext: Uint8Array;
  file: string;
}
export interface FinishFileJob extends PassGuard {
  op: 'finishFile';
  key: Uint8Array;
  aad: Uint8Array;
  file: string;
  /** What the first pass wrote: its length (nonce ‖ ciphertext) and GMAC. */
  length: number;
  mac: Uint8Array;
}
export interface HashJob {
  op: 'hash';
  bytes: Uint8Array;
}
export type Job =
  SealJob | SealToFileJob | OpenJob | OpenFileJob | EncryptToFileJob | FinishFileJob | HashJob;

export type OpenFailure = 'hash_mismatch' | 'wrong_length' | 'authentication_failed';

/** What a job answers; which fields are set depends on the job. */
export interface JobResult {
  ciphertext?: Uint8Array;
  tag?: Uint8Array;
  hash?: string;
  plaintext?: Uint8Array;
  /** The plaintext's length, left in a shared slot. */
  length?: number;
  /** GMAC of what the first pass of a two-pass seal wrote. */
  mac?: Uint8Array;
  failure?: OpenFailure | 'missing' | 'changed';
}

/** The main thread's messages: a job, or shared slots to register (see takeSlot). */
export type ToWorker =
  { id: number; job: Job } | { register: { slot: number; memory: SharedArrayBuffer }[] };

export interface Reply {
  id: number;
  result?: JobResult;
  error?: string;
  /** The errno code (ENOSPC, EEXIST…) of a file error, so callers can tell them apart. */
  code?: string;
}
