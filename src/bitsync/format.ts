// The BitSync v1 wire constants (DESIGN.md §6) and the pure rules derived from them: how content is
// cut into chunks and which additional data binds a chunk to its content and position.

export const BITSYNC_VERSION = 1;
/** Plaintext bytes per chunk; only the last chunk of a content may be shorter. */
export const CHUNK_SIZE = 524_288;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** What a blob adds to its chunk's plaintext: the nonce in front, the GCM tag behind. */
export const BLOB_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/** A chunk is never empty (empty content has no chunks), so a blob is 29 … 524316 bytes. */
export const MIN_BLOB_BYTES = BLOB_OVERHEAD + 1;
export const MAX_BLOB_BYTES = CHUNK_SIZE + BLOB_OVERHEAD;
/** The per-content AES-256 data-encryption key. */
export const DEK_BYTES = 32;

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** True for a lowercase hex SHA-256, the only form a content hash, chunk hash or fingerprint takes. */
export function isHexSha256(value: string): boolean {
  return HEX_SHA256.test(value);
}

export function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK_SIZE);
}

/** Plaintext length of chunk `index` in a content of `size` bytes. */
export function chunkPlaintextLength(size: number, index: number): number {
  return Math.min(CHUNK_SIZE, size - index * CHUNK_SIZE);
}

/**
 * The GCM additional data of chunk `index`: binding the content hash and the position means a blob
 * cannot be moved to another place in the same content, nor into another content under the same key.
 */
export function chunkAdditionalData(contentHash: string, index: number): Buffer {
  return Buffer.from(`axon-bitsync-v1:${contentHash}:${index}`, 'ascii');
}
