// Creating content: hash the plaintext, cut it into chunks, seal each under a fresh DEK, store the
// blobs and describe them in a manifest with one envelope per reader. Content already held is reused.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fingerprintOf } from '../crypto/keys.js';
import type { ChunkStore } from './chunk-store.js';
import { SealedChunk } from './chunk-cipher.js';
import { hashContent, type ContentSource } from './content-source.js';
import { recipientKeyObject, withEnvelopes, type RecipientKey } from './envelope.js';
import { SourceChangedError } from './errors.js';
import { BITSYNC_VERSION, CHUNK_SIZE, chunkCount, DEK_BYTES, NONCE_BYTES } from './format.js';
import { validateManifestMetadata, type Manifest, type ManifestMetadata } from './manifest.js';
import { CHUNKS_IN_FLIGHT } from './pipeline.js';

/**
 * A chosen DEK and nonces instead of random ones. Only for tests and the published test vector:
 * anything else reusing a (DEK, nonce) pair destroys GCM's confidentiality and integrity.
 */
export interface FixedKeyMaterial {
  dek: Uint8Array;
  nonce(index: number): Uint8Array;
}

export interface CreateContentOptions {
  store: ChunkStore;
  source: ContentSource;
  metadata: ManifestMetadata;
  /** This instance's public key: its envelope is the first. */
  instanceKey: RecipientKey;
  /** Peers allowed to read the content from the start. */
  peerKeys?: readonly RecipientKey[];
  /**
   * Dedup: the manifest this instance already holds for a content_hash, if any. When it answers,
   * that manifest is returned as it is and nothing is encrypted or stored.
   */
  findManifest?: (contentHash: string) => Promise<Manifest | undefined>;
  /** Where a one-pass stream is spooled; defaults to the store's scratch directory, else the OS's. */
  scratchDirectory?: string;
  createdAt?: Date;
  fixedKeyMaterial?: FixedKeyMaterial;
}

export interface CreatedContent {
  manifest: Manifest;
  /** True when an existing manifest was returned (dedup): no blob was written. */
  reused: boolean;
  /**
   * Fingerprints of the keys asked for that a reused manifest has no envelope for; a re-key by a
   * holder of the DEK (rekeyManifest) adds them. Always empty for new content.
   */
  keysWithoutEnvelope: string[];
}

export async function createContent(options: CreateContentOptions): Promise<CreatedContent> {
  const { store, fixedKeyMaterial: fixed } = options;
  // Bad metadata is refused before a byte is read.
  const metadata = validateManifestMetadata(options.metadata);
  if (fixed !== undefined && fixed.dek.length !== DEK_BYTES) {
    throw new RangeError(`a DEK is ${DEK_BYTES} bytes`);
  }
  // Parsed now, so a bad key fails before any work rather than after every blob is stored.
  const recipients = [options.instanceKey, ...(options.peerKeys ?? [])].map(recipientKeyObject);

  const content = await hashContent(
    options.source,
    options.scratchDirectory ?? store.scratchDirectory ?? os.tmpdir(),
  );
  try {
    const existing = await options.findManifest?.(content.contentHash);
    if (existing !== undefined) {
      if (existing.content_hash !== content.contentHash || existing.size !== content.size) {
        throw new Error(`findManifest answered for another content than ${content.contentHash}`);
      }
      return {
        manifest: existing,
        reused: true,
        keysWithoutEnvelope: recipients
          .map((key) => fingerprintOf(key))
          .filter((fingerprint) => existing.encrypted_aes_keys[fingerprint] === undefined),
      };
    }

    const dek = fixed === undefined ? randomBytes(DEK_BYTES) : Buffer.from(fixed.dek);
    try {
      const chunks = await sealAndStore(
        store,
        dek,
        content.contentHash,
        content.size,
        content.chunks(),
        (index) => (fixed === undefined ? randomBytes(NONCE_BYTES) : fixed.nonce(index)),
      );
      // Every blob's name is durable before a manifest naming them exists.
      await store.flush();
      const manifest = withEnvelopes(
        {
          version: BITSYNC_VERSION,
          content_hash: content.contentHash,
          size: content.size,
          chunk_size: CHUNK_SIZE,
          chunks,
          encrypted_aes_keys: {},
          created_at: (options.createdAt ?? new Date()).toISOString(),
          metadata,
        },
        dek,
        recipients,
      );
      return { manifest, reused: false, keysWithoutEnvelope: [] };
    } finally {
      dek.fill(0);
    }
  } finally {
    await content.release();
  }
}

/**
 * Seals and stores each chunk, a few at a time, and returns the chunk hashes in order. On failure
 * the blobs this call wrote are deleted: their nonces are fresh, so no other manifest can name them.
 */
async function sealAndStore(
  store: ChunkStore,
  dek: Uint8Array,
  contentHash: string,
  size: number,
  plaintexts: AsyncIterable<Buffer>,
  nonceFor: (index: number) => Uint8Array,
): Promise<string[]> {
  const count = chunkCount(size);
  const hashes = new Array<string>(count);
  const written: string[] = [];
  const inFlight: Promise<void>[] = [];
  try {
    let index = 0;
    for await (const plaintext of plaintexts) {
      if (index >= count) throw new SourceChangedError();
      const position = index++;
      const task = (async () => {
        const sealed = await SealedChunk.seal(
          dek,
          contentHash,
          position,
          nonceFor(position),
          plaintext,
        );
        const { hash, outcome } = await store.add(sealed);
        if (outcome === 'stored') written.push(hash);
        hashes[position] = hash;
      })();
      // Handled now, rethrown below when its turn comes: a later chunk may fail first.
      task.catch(() => undefined);
      inFlight.push(task);
      // Backpressure: the next chunk is not read until the oldest in flight is stored.
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await inFlight.shift();
    }
    for (let task = inFlight.shift(); task !== undefined; task = inFlight.shift()) await task;
    if (index !== count) throw new SourceChangedError();
  } catch (error) {
    await Promise.allSettled(inFlight);
    await Promise.allSettled(written.map((hash) => store.delete(hash)));
    throw error;
  }
  return hashes;
}
