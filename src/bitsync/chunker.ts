// Cuts a byte stream, arriving in pieces of any size, into chunk_size pieces (the last may be shorter),
// optionally hashing the whole as it goes.
import { createHash } from 'node:crypto';
import { CHUNK_SIZE } from './format.js';

/**
 * Yields fresh buffers of exactly `size` bytes (the last one shorter, none for an empty stream).
 * Every yielded buffer is a copy this generator owns outright, never a view of the caller's bytes:
 * consumers may hand it to a worker (transferring its memory) without touching the source.
 */
export async function* inChunks(
  source: AsyncIterable<Uint8Array>,
  size: number = CHUNK_SIZE,
): AsyncGenerator<Buffer> {
  let staging = Buffer.allocUnsafeSlow(size);
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
        staging = Buffer.allocUnsafeSlow(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield staging.subarray(0, filled);
}

/** A reading in chunk_size pieces, each added to a running SHA-256 and size before it is yielded. */
export interface HashedReading {
  chunks: AsyncGenerator<Buffer>;
  /** The lowercase hex SHA-256 and size of what has been read so far (all of it, once done). */
  result(): { contentHash: string; size: number };
}

export function hashedReading(source: AsyncIterable<Uint8Array>): HashedReading {
  const hasher = createHash('sha256');
  let size = 0;
  return {
    chunks: (async function* () {
      for await (const chunk of inChunks(source)) {
        hasher.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    })(),
    result: () => ({ contentHash: hasher.copy().digest('hex'), size }),
  };
}
