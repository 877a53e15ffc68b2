// Creating content: hash the plaintext, cut it into chunks, seal each under a fresh DEK, store the
// blobs and describe them in a manifest with one envelope per reader. Content already held is reused.
import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fingerprintOf } from '../crypto/keys.js';
import type { AddedBlob, BlobFiles, ChunkStore } from './chunk-store.js';
import {
  counterNonce,
  encryptChunkToFile,
  SealedChunk,
  SealedChunkFile,
  type EncryptedChunkFile,
} from './chunk-cipher.js';
import { ChunkBuffers, hashedReading } from './chunker.js';
import { readInChunks, type ContentSource } from './content-source.js';
import { recipientKeyObject, withEnvelopes, type RecipientKey } from './envelope.js';
import { DeclaredHashMismatchError } from './errors.js';
import { BITSYNC_VERSION, CHUNK_SIZE, DEK_BYTES, isHexSha256, NONCE_BYTES } from './format.js';
import { validateManifestMetadata, type Manifest, type ManifestMetadata } from './manifest.js';
import { CHUNKS_IN_FLIGHT, indexRange, inOrder } from './pipeline.js';

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
  /**
   * The content_hash the sender declares (an uploader who hashed the file first). With it the
   * content is read once: each chunk is sealed and stored as it arrives, and the hash of the whole
   * is checked at the end; a mismatch deletes every blob written and throws
   * DeclaredHashMismatchError. Without it the content is taken in two passes (ciphertext as it
   * arrives, tags once it is hashed), in the store's own scratch folder when it keeps local files,
   * else in a scratch folder made for the creation under `scratchDirectory`.
   */
  declaredContentHash?: string;
  /**
   * Where a store without local files has the first pass's scratch folder made (0700, removed
   * afterwards); defaults to the OS's temporary folder.
   */
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

  if (options.declaredContentHash !== undefined) {
    if (!isHexSha256(options.declaredContentHash)) {
      throw new RangeError('a declared content hash is 64 lowercase hex characters');
    }
    return createInOnePass(options, options.declaredContentHash, metadata, recipients);
  }
  if (store.blobFiles !== undefined) {
    return createInTwoPasses(options, store.blobFiles, metadata, recipients);
  }

  // A store without local files: the same two passes, in a scratch folder of this creation's own.
  const scratch = await scratchFilesFor(store, options.scratchDirectory ?? os.tmpdir());
  try {
    return await createInTwoPasses(options, scratch, metadata, recipients);
  } finally {
    await scratch.remove();
  }
}

/** What a two-pass creation needs of local files: fresh paths, and a way to turn one into a blob. */
type FirstPassFiles = Pick<BlobFiles, 'scratchFile' | 'adopt'>;

/**
 * The files of a two-pass creation for a store without local files: a new folder under `parent`
 * (0700, as mkdtemp makes it) holds the first pass's ciphertext; each blob the second pass finishes
 * is read back, handed to the store with `put` and deleted. `remove` deletes the folder and
 * whatever is left in it.
 */
async function scratchFilesFor(
  store: ChunkStore,
  parent: string,
): Promise<FirstPassFiles & { remove(): Promise<void> }> {
  const directory = await mkdtemp(path.join(parent, 'axon-bitsync-create-'));
  return {
    scratchFile: () => path.join(directory, randomBytes(12).toString('hex')),
    async adopt(chunk) {
      try {
        // put hashes the bytes again: a file altered since its second pass is refused, not stored.
        const outcome = await store.put(chunk.hash, await readFile(chunk.file));
        return { hash: chunk.hash, outcome };
      } finally {
        await rm(chunk.file, { force: true });
      }
    },
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

/**
 * The declared hash goes into every chunk's additional data from the start, so the content is read
 * once; only if the plaintext turns out to hash to it is anything kept.
 */
async function createInOnePass(
  options: CreateContentOptions,
  declared: string,
  metadata: ManifestMetadata,
  recipients: KeyObject[],
): Promise<CreatedContent> {
  const buffers = new ChunkBuffers();
  const reading = hashedReading(readInChunks(options.source, buffers));
  const matchesDeclared = () => {
    const { contentHash } = reading.result();
    if (contentHash !== declared) throw new DeclaredHashMismatchError(declared, contentHash);
  };
  const existing = await options.findManifest?.(declared);
  if (existing !== undefined) {
    // Held already: nothing is stored, but the sender must still prove it has the content, or a
    // declared hash alone would make someone else's content theirs.
    for await (const chunk of reading.chunks) void chunk;
    matchesDeclared();
    return reuse(existing, reading.result(), recipients);
  }
  return withDek(options, async (dek) => {
    const chunks = await sealAndStore(
      options,
      dek,
      declared,
      reading.chunks,
      matchesDeclared,
      buffers,
    );
    return described(options, dek, reading.result(), chunks, metadata, recipients);
  });
}

/**
 * Chunks being encrypted at once in a two-pass creation's first pass. Two: with four, the memory test's peak RSS growth was higher (35–57 MiB against 30–46 for 64 MiB), and the
 * main thread's reading and hashing, not the depth, sets the pace of this pass.
 */
const FIRST_PASS_DEPTH = 2;

/**
 * No declared hash: the source is read once. As each chunk arrives its ciphertext — which does not
 * depend on the additional data — is written to a file of its own while the main thread hashes the
 * whole; once content_hash is known, a second pass over those files adds each tag, fsyncs the file
 * and hands it to `files.adopt` (a store of local files names it; another store is given its bytes).
 * The content is encrypted and written once,
 * and the plaintext never touches the disk. Between the passes each file is guarded by GMAC under
 * a key that exists only in memory for this creation, so a file altered in between fails the
 * creation (SourceChangedError) instead of becoming a blob that does not hold the content.
 */
async function createInTwoPasses(
  options: CreateContentOptions,
  files: FirstPassFiles,
  metadata: ManifestMetadata,
  recipients: KeyObject[],
): Promise<CreatedContent> {
  const { store, fixedKeyMaterial: fixed } = options;
  const buffers = new ChunkBuffers();
  const reading = hashedReading(readInChunks(options.source, buffers));
  const macKey = randomBytes(32);
  const guard = (index: number) => ({ macKey, macNonce: counterNonce(index) });
  // Files made by the first pass and not yet named (adopt removes each file it names).
  const unnamed = new Set<string>();
  try {
    return await withDek(options, (dek) =>
      undoneOnFailure(store, async (keep) => {
        const encrypted: EncryptedChunkFile[] = [];
        const firstPass = inOrder(reading.chunks, FIRST_PASS_DEPTH, async (plaintext, index) => {
          const nonce = fixed === undefined ? randomBytes(NONCE_BYTES) : fixed.nonce(index);
          const file = files.scratchFile();
          unnamed.add(file);
          const done = await encryptChunkToFile(dek, nonce, plaintext, file, guard(index));
          buffers.giveBack(done.plaintext);
          return done.encrypted;
        });
        for await (const chunk of firstPass) encrypted.push(chunk);
        const content = reading.result();
        const existing = await options.findManifest?.(content.contentHash);
        if (existing !== undefined) return reuse(existing, content, recipients);

        const chunks: string[] = [];
        const secondPass = inOrder(
          indexRange(0, encrypted.length - 1),
          CHUNKS_IN_FLIGHT,
          async (index) => {
            const chunk = encrypted[index]!;
            const sealed = await SealedChunkFile.finish(
              dek,
              content.contentHash,
              index,
              chunk,
              guard(index),
            );
            unnamed.delete(chunk.file);
            return keep(await files.adopt(sealed));
          },
        );
        for await (const hash of secondPass) chunks.push(hash);
        return described(options, dek, content, chunks, metadata, recipients);
      }),
    );
  } finally {
    await Promise.allSettled([...unnamed].map((file) => rm(file, { force: true })));
  }
}

function reuse(
  existing: Manifest,
  content: { contentHash: string; size: number },
  recipients: KeyObject[],
): CreatedContent {
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

/** The manifest of content whose blobs are stored: made durable first, then described. */
async function described(
  options: CreateContentOptions,
  dek: Uint8Array,
  content: { contentHash: string; size: number },
  chunks: string[],
  metadata: ManifestMetadata,
  recipients: KeyObject[],
): Promise<CreatedContent> {
  // Every blob's name is durable before a manifest naming them exists.
  await options.store.flush();
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
}

/** Runs `work` with a fresh DEK (or the fixed one), wiped afterwards. */
async function withDek<T>(
  options: CreateContentOptions,
  work: (dek: Buffer) => Promise<T>,
): Promise<T> {
  const fixed = options.fixedKeyMaterial;
  const dek = fixed === undefined ? randomBytes(DEK_BYTES) : Buffer.from(fixed.dek);
  try {
    return await work(dek);
  } finally {
    dek.fill(0);
  }
}

/**
 * Runs `work`, which passes each blob it adds through `keep` (answering its hash); if `work` fails,
 * the blobs it stored are deleted before the error goes on: their nonces were fresh, so no other
 * manifest can name them. Blobs found stored already are never deleted.
 */
async function undoneOnFailure<T>(
  store: ChunkStore,
  work: (keep: (added: AddedBlob) => string) => Promise<T>,
): Promise<T> {
  const stored: string[] = [];
  try {
    return await work(({ hash, outcome }) => {
      if (outcome === 'stored') stored.push(hash);
      return hash;
    });
  } catch (error) {
    // inOrder has settled every task it started by the time its consumer fails: `stored` is whole.
    await Promise.allSettled(stored.map((hash) => store.delete(hash)));
    throw error;
  }
}

/**
 * Seals and stores each chunk, a few at a time, and returns the chunk hashes in order once
 * `finished(count)` has accepted the whole reading. On failure (of the source, a store, or that
 * check) the blobs this call wrote are deleted (undoneOnFailure).
 */
async function sealAndStore(
  options: CreateContentOptions,
  dek: Uint8Array,
  contentHash: string,
  plaintexts: AsyncIterable<Buffer>,
  finished: (count: number) => void,
  buffers: ChunkBuffers,
): Promise<string[]> {
  const { store, fixedKeyMaterial: fixed } = options;
  const files = store.blobFiles;
  return undoneOnFailure(store, async (keep) => {
    // Backpressure: a chunk is read only while fewer than CHUNKS_IN_FLIGHT are being sealed or stored.
    const stored = inOrder(plaintexts, CHUNKS_IN_FLIGHT, async (plaintext, index) => {
      const nonce = fixed === undefined ? randomBytes(NONCE_BYTES) : fixed.nonce(index);
      if (files === undefined) {
        return keep(
          await store.add(await SealedChunk.seal(dek, contentHash, index, nonce, plaintext)),
        );
      }
      // A store of local files has the worker write the blob file itself: its bytes never come
      // back, and the plaintext's buffer does, to be filled with a later chunk.
      const file = files.scratchFile();
      const sealed = await SealedChunkFile.seal(
        dek,
        contentHash,
        index,
        nonce,
        plaintext,
        file,
        true,
      );
      buffers.giveBack(sealed.plaintext);
      return keep(await files.adopt(sealed));
    });
    const hashes: string[] = [];
    for await (const hash of stored) hashes.push(hash);
    finished(hashes.length);
    return hashes;
  });
}
