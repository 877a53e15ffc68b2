// One chunk's blob: sealing plaintext into nonce ‖ AES-256-GCM ciphertext ‖ tag under the chunk's
// additional data, and checking and opening a blob, in the crypto worker pool.
import type { ChunkStore } from './chunk-store.js';
import { BitSyncIntegrityError, SourceChangedError, type ChunkRef } from './errors.js';
import {
  encryptToFileInWorker,
  finishFileInWorker,
  hashInWorker,
  openFileInWorker,
  openInWorker,
  sealInWorker,
  sealToFileInWorker,
  type PassGuard,
} from './crypto-workers.js';
import {
  BLOB_OVERHEAD,
  chunkAdditionalData,
  chunkPlaintextLength,
  DEK_BYTES,
  NONCE_BYTES,
} from './format.js';

function checkDek(dek: Uint8Array): void {
  if (dek.length !== DEK_BYTES) throw new RangeError(`a DEK is ${DEK_BYTES} bytes`);
}

/**
 * A 12-byte big-endian counter, for keys made for one creation and never kept: each
 * index is used once under such a key, so a counter is a safe GCM nonce. Never for a DEK.
 */
export function counterNonce(index: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUIntBE(index, 6, 6);
  return nonce;
}

/** What sealing needs before any work: a whole DEK and a whole nonce. */
function checkSealing(dek: Uint8Array, nonce: Uint8Array): void {
  checkDek(dek);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`a nonce is ${NONCE_BYTES} bytes`);
}

/**
 * A blob this process has just sealed, with its chunk hash computed from those very bytes. Only
 * `SealedChunk.seal` makes one, which is why a ChunkStore may take its hash without hashing again.
 */
export class SealedChunk {
  private constructor(
    /** The blob in its parts, nonce ‖ ciphertext ‖ tag, as sealed: stores write them as they are. */
    readonly parts: readonly Buffer[],
    /** SHA-256 of the blob: the chunk hash, the name it is stored under. */
    readonly hash: string,
  ) {}

  /** The blob as one buffer (a copy of the parts). */
  get blob(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** Seals chunk `index` of a content. `plaintext` is handed over: do not use it afterwards. */
  static async seal(
    dek: Uint8Array,
    contentHash: string,
    index: number,
    nonce: Uint8Array,
    plaintext: Uint8Array,
  ): Promise<SealedChunk> {
    checkSealing(dek, nonce);
    const { parts, hash } = await sealInWorker(
      dek,
      nonce,
      chunkAdditionalData(contentHash, index),
      plaintext,
      true,
    );
    if (hash === undefined) throw new Error('the sealed chunk came back without its hash');
    return new SealedChunk(parts, hash);
  }
}

/**
 * A blob this process has just sealed straight into a new file (written and fsynced by the worker),
 * with its chunk hash computed from those very bytes. Only `SealedChunkFile.seal` makes one, which
 * is why a store may name the file by that hash without reading it again.
 */
export class SealedChunkFile {
  private constructor(
    /** The fsynced file holding the whole blob, not yet under its name. */
    readonly file: string,
    /** SHA-256 of the blob: the chunk hash, the name it is stored under. */
    readonly hash: string,
    /** The plaintext's buffer, handed back: the caller may fill it again. */
    readonly plaintext: Buffer | undefined,
  ) {}

  /**
   * Seals chunk `index` of a content into the new file `file` (created exclusively, fsynced and
   * closed; removed on failure). `plaintext` is handed over; with `giveBack` it comes back as
   * `plaintext`.
   */
  static async seal(
    dek: Uint8Array,
    contentHash: string,
    index: number,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    file: string,
    giveBack: boolean,
  ): Promise<SealedChunkFile> {
    checkSealing(dek, nonce);
    const sealed = await sealToFileInWorker(
      dek,
      nonce,
      chunkAdditionalData(contentHash, index),
      plaintext,
      true,
      { file },
      giveBack,
    );
    if (sealed.hash === undefined) throw new Error('the sealed chunk came back without its hash');
    return new SealedChunkFile(file, sealed.hash, sealed.plaintext);
  }

  /**
   * The second pass of encryptChunkToFile, once the content hash is known: the file's tag is
   * appended for chunk `index` of `contentHash`, the file fsynced and its blob hashed. Throws
   * SourceChangedError when the file is not what the first pass wrote (nothing is appended).
   */
  static async finish(
    dek: Uint8Array,
    contentHash: string,
    index: number,
    encrypted: EncryptedChunkFile,
    guard: PassGuard,
  ): Promise<SealedChunkFile> {
    checkDek(dek);
    const aad = chunkAdditionalData(contentHash, index);
    const finished = await finishFileInWorker(dek, aad, encrypted.file, encrypted, guard);
    if ('failure' in finished) throw new SourceChangedError();
    return new SealedChunkFile(encrypted.file, finished.hash, undefined);
  }
}

/**
 * A chunk half sealed (encryptChunkToFile): its file holds nonce ‖ ciphertext, unsynced, and the
 * tag waits for the content hash. `length` and `mac` are what the second pass checks the file by.
 */
export interface EncryptedChunkFile {
  readonly file: string;
  readonly length: number;
  readonly mac: Uint8Array;
}

/**
 * The first pass of sealing a chunk before the content hash is known: the ciphertext, which
 * does not depend on the additional data, written to the new file `file`. `plaintext` is handed
 * over and its buffer comes back holding the ciphertext, only good to be filled again. `guard`
 * must be unique to this chunk of this creation.
 */
export async function encryptChunkToFile(
  dek: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  file: string,
  guard: PassGuard,
): Promise<{ encrypted: EncryptedChunkFile; plaintext: Buffer }> {
  checkSealing(dek, nonce);
  const length = NONCE_BYTES + plaintext.length;
  const done = await encryptToFileInWorker(dek, nonce, plaintext, file, guard);
  return { encrypted: { file, length, mac: done.mac }, plaintext: done.plaintext };
}

/**
 * Checks a blob without decrypting it: it must hash to its name, then have the length the content's
 * size implies for its position. Throws BitSyncIntegrityError naming the chunk. `blob` is handed
 * over: do not use it afterwards.
 */
export async function checkBlob(
  contentHash: string,
  size: number,
  chunk: ChunkRef,
  blob: Uint8Array,
): Promise<void> {
  const length = blob.length;
  if ((await hashInWorker(blob)) !== chunk.hash) {
    throw new BitSyncIntegrityError('hash_mismatch', contentHash, chunk);
  }
  // A blob whose hash matches but whose length is off was sealed for a different size: the
  // manifest's size, not the blob, is what was tampered with.
  if (length !== chunkPlaintextLength(size, chunk.index) + BLOB_OVERHEAD) {
    throw new BitSyncIntegrityError('wrong_length', contentHash, chunk);
  }
}

/**
 * checkBlob, then decrypt and authenticate: the chunk's plaintext, or BitSyncIntegrityError. The
 * checks and the decryption are one trip to a worker. `blob` is handed over.
 */
export async function openChunk(
  dek: Uint8Array,
  contentHash: string,
  size: number,
  chunk: ChunkRef,
  blob: Uint8Array,
): Promise<Buffer> {
  checkDek(dek);
  const from = { bytes: blob };
  const opened = await openInWorker(dek, chunkAdditionalData(contentHash, chunk.index), from, {
    expectedHash: chunk.hash,
    expectedLength: chunkPlaintextLength(size, chunk.index) + BLOB_OVERHEAD,
  });
  if ('failure' in opened) throw new BitSyncIntegrityError(opened.failure, contentHash, chunk);
  return opened.plaintext;
}

/**
 * A stored chunk, checked and opened: the plaintext, or BitSyncIntegrityError (`missing` when the
 * store has no blob for it). A blob kept as a local file is read by a worker into shared memory
 * and opened there; other blobs, and blob files while every shared slot is busy, are fetched from
 * the store here and handed to a worker.
 */
export async function openStoredChunk(
  store: ChunkStore,
  dek: Uint8Array,
  contentHash: string,
  size: number,
  chunk: ChunkRef,
): Promise<Buffer> {
  const files = store.blobFiles;
  if (files !== undefined) {
    const file = files.pathOf(chunk.hash);
    const plaintext = await openChunkFile(dek, contentHash, size, chunk, file);
    if (plaintext !== undefined) return plaintext;
  }
  const blob = await store.get(chunk.hash);
  if (blob === undefined) throw new BitSyncIntegrityError('missing', contentHash, chunk);
  return openChunk(dek, contentHash, size, chunk, blob);
}

/** openChunk for a blob file the worker reads itself; undefined when it has no free slot. */
async function openChunkFile(
  dek: Uint8Array,
  contentHash: string,
  size: number,
  chunk: ChunkRef,
  file: string,
): Promise<Buffer | undefined> {
  checkDek(dek);
  const opened = await openFileInWorker(dek, chunkAdditionalData(contentHash, chunk.index), file, {
    expectedHash: chunk.hash,
    expectedLength: chunkPlaintextLength(size, chunk.index) + BLOB_OVERHEAD,
  });
  if (opened === undefined) return undefined;
  if ('failure' in opened) throw new BitSyncIntegrityError(opened.failure, contentHash, chunk);
  return opened.plaintext;
}
