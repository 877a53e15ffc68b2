// Cuts a byte stream, arriving in pieces of any size, into chunk_size pieces (the last may be shorter).
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
