// Verifying stored content without serving it: every blob present and hash-valid (no key needed),
// or, in deep mode, also decrypted, its GCM tag checked, and the whole checked against content_hash.
import { createHash } from 'node:crypto';
import type { ChunkStore } from './chunk-store.js';
import { checkBlob, openStoredChunk } from './chunk-cipher.js';
import { BitSyncIntegrityError, type ChunkRef, type IntegrityFailure } from './errors.js';
import { validateManifest, type Manifest } from './manifest.js';
import { CHUNKS_IN_FLIGHT, indexRange, inOrder } from './pipeline.js';

export interface ChunkProblem extends ChunkRef {
  reason: IntegrityFailure;
}

export interface VerifyReport {
  contentHash: string;
  ok: boolean;
  /** Chunk hashes the store does not hold. */
  missing: string[];
  /** Chunk hashes held but failing a check (hash, length, or, deep, the GCM tag). */
  corrupt: string[];
  /** Every failing chunk with its position and reason. */
  problems: ChunkProblem[];
  /**
   * Deep mode only: whether the decrypted whole hashes to content_hash. `not_checked` in shallow
   * mode, and when a chunk failed (its plaintext is unknown, so the whole cannot be hashed).
   */
  contentHashCheck: 'valid' | 'mismatch' | 'not_checked';
}

export interface VerifyContentOptions {
  store: ChunkStore;
  manifest: Manifest;
  /** Deep mode: the content's DEK, so every chunk is decrypted and authenticated too. */
  deep?: { dek: Uint8Array };
}

export async function verifyContent(options: VerifyContentOptions): Promise<VerifyReport> {
  const manifest = validateManifest(options.manifest);
  const dek = options.deep?.dek;
  const hasher = createHash('sha256');
  const problems: ChunkProblem[] = [];

  const outcomes = inOrder(indexRange(0, manifest.chunks.length - 1), CHUNKS_IN_FLIGHT, (index) =>
    checkChunk(options.store, manifest, dek, { index, hash: manifest.chunks[index]! }),
  );
  for await (const outcome of outcomes) {
    if ('reason' in outcome) problems.push(outcome);
    else if (problems.length === 0) hasher.update(outcome.plaintext);
  }

  let contentHashCheck: VerifyReport['contentHashCheck'] = 'not_checked';
  if (dek !== undefined && problems.length === 0) {
    contentHashCheck = hasher.digest('hex') === manifest.content_hash ? 'valid' : 'mismatch';
  }
  return {
    contentHash: manifest.content_hash,
    ok: problems.length === 0 && contentHashCheck !== 'mismatch',
    missing: problems.filter((p) => p.reason === 'missing').map((p) => p.hash),
    corrupt: problems.filter((p) => p.reason !== 'missing').map((p) => p.hash),
    problems,
    contentHashCheck,
  };
}

async function checkChunk(
  store: ChunkStore,
  manifest: Manifest,
  dek: Uint8Array | undefined,
  chunk: ChunkRef,
): Promise<ChunkProblem | { plaintext: Buffer }> {
  const { content_hash: contentHash, size } = manifest;
  try {
    if (dek !== undefined) {
      return { plaintext: await openStoredChunk(store, dek, contentHash, size, chunk) };
    }
    const blob = await store.get(chunk.hash);
    if (blob === undefined) return { ...chunk, reason: 'missing' };
    await checkBlob(contentHash, size, chunk, blob);
    return { plaintext: Buffer.alloc(0) };
  } catch (error) {
    if (error instanceof BitSyncIntegrityError) return { ...chunk, reason: error.reason };
    throw error;
  }
}
