// Reading content back: whole or a byte range, chunk by chunk in constant memory, every blob checked
// (hash, then GCM tag) before a byte of it is released, and a whole read checked against content_hash.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ChunkStore } from './chunk-store.js';
import { openStoredChunk } from './chunk-cipher.js';
import { BitSyncIntegrityError, RangeNotSatisfiableError, type ChunkRef } from './errors.js';
import { CHUNK_SIZE, chunkCount, DEK_BYTES } from './format.js';
import { validateManifest, type Manifest } from './manifest.js';
import { CHUNKS_IN_FLIGHT, indexRange, inOrder } from './pipeline.js';

/** Byte offsets, both inclusive, as in HTTP's Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ReadContentOptions {
  store: ChunkStore;
  manifest: Manifest;
  /** The content's DEK, from openEnvelope. */
  dek: Uint8Array;
  /**
   * Only these bytes, reading only the chunks that hold them. A range cannot be checked against
   * content_hash (that needs every byte); its chunks are still checked by hash and GCM tag.
   */
  range?: ByteRange;
}

/**
 * The content as a byte stream. The manifest, the DEK's length and the range are checked before
 * this returns (so an HTTP layer can still answer 4xx/416); any later failure destroys the stream
 * with BitSyncIntegrityError. For a whole read the last chunk is held back until content_hash has
 * been checked, so a reader never gets every byte of content that fails it.
 */
export function readContent(options: ReadContentOptions): Readable {
  return Readable.from(contentChunks(options), { objectMode: false });
}

/** readContent as an async iterable of buffers, for consumers that are not Node streams. */
export function contentChunks(options: ReadContentOptions): AsyncGenerator<Buffer> {
  const manifest = validateManifest(options.manifest);
  if (options.dek.length !== DEK_BYTES) throw new RangeError(`a DEK is ${DEK_BYTES} bytes`);
  const range = options.range;
  if (range !== undefined) checkRange(range, manifest.size);
  return range === undefined
    ? wholeContent(options.store, manifest, options.dek)
    : rangeOfContent(options.store, manifest, options.dek, range);
}

function checkRange({ start, end }: ByteRange, size: number): void {
  const valid =
    Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end;
  if (!valid || end >= size) throw new RangeNotSatisfiableError(start, end, size);
}

async function* wholeContent(
  store: ChunkStore,
  manifest: Manifest,
  dek: Uint8Array,
): AsyncGenerator<Buffer> {
  const hasher = createHash('sha256');
  const last = chunkCount(manifest.size) - 1;
  for await (const { chunk, plaintext } of openChunks(store, manifest, dek, 0, last)) {
    hasher.update(plaintext);
    if (chunk.index === last) checkContentHash(manifest, hasher.digest('hex'));
    yield plaintext;
  }
  if (last === -1) checkContentHash(manifest, hasher.digest('hex'));
}

async function* rangeOfContent(
  store: ChunkStore,
  manifest: Manifest,
  dek: Uint8Array,
  { start, end }: ByteRange,
): AsyncGenerator<Buffer> {
  const first = Math.floor(start / CHUNK_SIZE);
  const last = Math.floor(end / CHUNK_SIZE);
  for await (const { chunk, plaintext } of openChunks(store, manifest, dek, first, last)) {
    const offset = chunk.index * CHUNK_SIZE;
    yield plaintext.subarray(
      Math.max(0, start - offset),
      Math.min(plaintext.length, end - offset + 1),
    );
  }
}

function checkContentHash(manifest: Manifest, actual: string): void {
  if (actual !== manifest.content_hash) {
    throw new BitSyncIntegrityError('content_hash_mismatch', manifest.content_hash);
  }
}

interface OpenedChunk {
  chunk: ChunkRef;
  plaintext: Buffer;
}

/** Chunks first … last, fetched and opened a few ahead of the consumer, yielded in order. */
function openChunks(
  store: ChunkStore,
  manifest: Manifest,
  dek: Uint8Array,
  first: number,
  last: number,
): AsyncGenerator<OpenedChunk> {
  return inOrder(indexRange(first, last), CHUNKS_IN_FLIGHT, async (index) => {
    const chunk = { index, hash: manifest.chunks[index]! };
    const { content_hash: contentHash, size } = manifest;
    return { chunk, plaintext: await openStoredChunk(store, dek, contentHash, size, chunk) };
  });
}
