// Cuts a byte stream, arriving in pieces of any size, into chunk_size pieces (the last may be shorter),
// optionally hashing the whole as it goes.
import { createHash } from 'node:crypto';
import { CHUNK_SIZE } from './format.js';

/**
 * Chunk-sized buffers given back once their chunk is sealed, so that a creation fills the same few
 * again instead of allocating (and page-faulting, and later collecting) a fresh one per chunk.
 */
export class ChunkBuffers {
  private readonly spare: ArrayBuffer[] = [];

  /** A chunk_size buffer this caller owns outright (its own ArrayBuffer, transferable). */
  take(): Buffer {
    const spare = this.spare.pop();
    return spare === undefined ? Buffer.allocUnsafeSlow(CHUNK_SIZE) : Buffer.from(spare);
  }

  /** Keeps the buffer under `bytes` for reuse if it is a whole chunk_size one; the caller lets go. */
  giveBack(bytes: Uint8Array | undefined): void {
    const buffer = bytes?.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      buffer.byteLength === CHUNK_SIZE &&
      this.spare.length < SPARE_BUFFERS
    ) {
      this.spare.push(buffer);
    }
  }
}

/** More than the chunks in flight at once never helps; the rest are left to the garbage collector. */
const SPARE_BUFFERS = 8;

/**
 * Yields buffers of exactly chunk_size bytes (the last one shorter, none for an empty stream).
 * Every yielded buffer is one this generator owns outright (taken from `buffers`), never a view of
 * the caller's bytes: consumers may hand it to a worker (transferring its memory) without touching
 * the source.
 */
export async function* inChunks(
  source: AsyncIterable<Uint8Array>,
  buffers: ChunkBuffers = new ChunkBuffers(),
): AsyncGenerator<Buffer> {
  const size = CHUNK_SIZE;
  let staging = buffers.take();
  let filled = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(size - filled, piece.length - offset);
      staging.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield staging;
        staging = buffers.take();
        filled = 0;
      }
    }
  }
  if (filled > 0) yield staging.subarray(0, filled);
}

/** Chunks of a reading, each added to a running SHA-256 and size before it is yielded. */
export interface HashedReading {
  chunks: AsyncGenerator<Buffer>;
  /** The lowercase hex SHA-256 and size of what has been read so far (all of it, once done). */
  result(): { contentHash: string; size: number };
}

export function hashedReading(chunks: AsyncIterable<Buffer>): HashedReading {
  const hasher = createHash('sha256');
  let size = 0;
  return {
    chunks: (async function* () {
      for await (const chunk of chunks) {
        hasher.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    })(),
    result: () => ({ contentHash: hasher.copy().digest('hex'), size }),
  };
}
