// The typed failures of BitSync. Each carries a stable UPPER_SNAKE `code` so the HTTP layer and the
// federation sync can map them (integrity → refuse and re-fetch, range → 416, manifest → 4xx).

export type BitSyncErrorCode =
  | 'BITSYNC_INTEGRITY'
  | 'BITSYNC_MANIFEST_INVALID'
  | 'BITSYNC_ENVELOPE_NOT_FOUND'
  | 'BITSYNC_LAST_ENVELOPE'
  | 'BITSYNC_BLOB_REJECTED'
  | 'BITSYNC_INVALID_CHUNK_HASH'
  | 'BITSYNC_RANGE_NOT_SATISFIABLE'
  | 'BITSYNC_SOURCE_CHANGED'
  | 'BITSYNC_DECLARED_HASH_MISMATCH';

export abstract class BitSyncError extends Error {
  abstract readonly code: BitSyncErrorCode;
}

/** Why stored content cannot be trusted. */
export type IntegrityFailure =
  /** The blob a manifest names is not in the store. */
  | 'missing'
  /** The blob's bytes do not hash to its name. */
  | 'hash_mismatch'
  /** The blob, or the plaintext it opens to, does not have the length the manifest's size implies. */
  | 'wrong_length'
  /** The GCM tag did not verify: wrong key, altered bytes, or a blob from another place or content. */
  | 'authentication_failed'
  /** Every chunk opened, but the whole plaintext does not hash to content_hash. */
  | 'content_hash_mismatch'
  /** An envelope that does not open to a 32-byte key with the private key it is filed under. */
  | 'envelope_invalid';

export interface ChunkRef {
  index: number;
  hash: string;
}

/** Content failed verification; no byte of the failing chunk (or, for content_hash, of the last chunk) was released. */
export class BitSyncIntegrityError extends BitSyncError {
  readonly code = 'BITSYNC_INTEGRITY';

  constructor(
    readonly reason: IntegrityFailure,
    readonly contentHash: string,
    /** The chunk at fault; absent for whole-content and envelope failures. */
    readonly chunk?: ChunkRef,
  ) {
    super(
      chunk === undefined
        ? `content ${contentHash}: ${reason.replaceAll('_', ' ')}`
        : `content ${contentHash}, chunk ${chunk.index} (${chunk.hash}): ${reason.replaceAll('_', ' ')}`,
    );
    this.name = 'BitSyncIntegrityError';
  }
}

export interface ManifestIssue {
  /** Dotted path of the field at fault, e.g. `chunks.3` or `metadata.filename`; empty for the whole. */
  path: string;
  message: string;
}

export class ManifestFormatError extends BitSyncError {
  readonly code = 'BITSYNC_MANIFEST_INVALID';

  constructor(readonly issues: readonly ManifestIssue[]) {
    super(
      `invalid manifest: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`,
    );
    this.name = 'ManifestFormatError';
  }
}

/** The manifest has no envelope for this key: ask the origin to re-key (DESIGN.md §7). */
export class EnvelopeNotFoundError extends BitSyncError {
  readonly code = 'BITSYNC_ENVELOPE_NOT_FOUND';

  constructor(
    readonly contentHash: string,
    readonly fingerprint: string,
  ) {
    super(`content ${contentHash} has no envelope for key ${fingerprint}`);
    this.name = 'EnvelopeNotFoundError';
  }
}

/** Revoking the only envelope would leave the content readable by nobody. */
export class LastEnvelopeError extends BitSyncError {
  readonly code = 'BITSYNC_LAST_ENVELOPE';

  constructor(readonly contentHash: string) {
    super(`content ${contentHash}: refusing to revoke its last envelope`);
    this.name = 'LastEnvelopeError';
  }
}

export type BlobRejection = 'hash_mismatch' | 'wrong_size';

/** A chunk store refused a blob; nothing was stored under its name. */
export class BlobRejectedError extends BitSyncError {
  readonly code = 'BITSYNC_BLOB_REJECTED';

  constructor(
    readonly reason: BlobRejection,
    readonly hash: string,
  ) {
    super(`blob ${hash} rejected: ${reason.replaceAll('_', ' ')}`);
    this.name = 'BlobRejectedError';
  }
}

/** Not a lowercase hex SHA-256: refused before it can name a path. */
export class InvalidChunkHashError extends BitSyncError {
  readonly code = 'BITSYNC_INVALID_CHUNK_HASH';

  constructor(readonly value: string) {
    super(`not a chunk hash: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'InvalidChunkHashError';
  }
}

export class RangeNotSatisfiableError extends BitSyncError {
  readonly code = 'BITSYNC_RANGE_NOT_SATISFIABLE';

  constructor(
    readonly start: number,
    readonly end: number,
    readonly size: number,
  ) {
    super(`byte range ${start}-${end} is not within a content of ${size} bytes`);
    this.name = 'RangeNotSatisfiableError';
  }
}

/**
 * The content changed between a creation's two passes: a file the first pass wrote (a half-sealed
 * blob) was altered before the second. Nothing was kept.
 */
export class SourceChangedError extends BitSyncError {
  readonly code = 'BITSYNC_SOURCE_CHANGED';

  constructor() {
    super('the content changed between the two passes of its creation');
    this.name = 'SourceChangedError';
  }
}

/** The content's SHA-256 is not the content_hash its sender declared; nothing of it was kept. */
export class DeclaredHashMismatchError extends BitSyncError {
  readonly code = 'BITSYNC_DECLARED_HASH_MISMATCH';

  constructor(
    readonly declared: string,
    readonly actual: string,
  ) {
    super(`the content's SHA-256 is ${actual}, not the declared ${declared}`);
    this.name = 'DeclaredHashMismatchError';
  }
}
