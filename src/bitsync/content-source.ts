// Where new content comes from, and how it is read (once: see create.ts).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { ChunkBuffers, inChunks } from './chunker.js';
import { CHUNK_SIZE } from './format.js';

/** A source that gives the same bytes each time it is opened: a file, a buffer, a generator. */
export interface ReopenableSource {
  open(): AsyncIterable<Uint8Array>;
}

/**
 * A one-pass stream (an HTTP upload) or a reopenable source. Pieces may have any size; a piece must
 * not be modified once yielded.
 */
export type ContentSource = AsyncIterable<Uint8Array> | ReopenableSource;

export function fileSource(file: string): ReopenableSource {
  return new FileSource(file);
}

/**
 * A file is read by the library straight into its chunk buffers: no stream allocating a fresh
 * buffer per read, no copy of each into a chunk. `open` serves any other consumer.
 */
class FileSource implements ReopenableSource {
  constructor(private readonly file: string) {}

  open(): AsyncIterable<Uint8Array> {
    return createReadStream(this.file, { highWaterMark: CHUNK_SIZE });
  }

  async *chunks(buffers: ChunkBuffers): AsyncGenerator<Buffer> {
    const handle = await open(this.file, 'r');
    try {
      for (let filled = CHUNK_SIZE; filled === CHUNK_SIZE;) {
        const chunk = buffers.take();
        filled = 0;
        while (filled < CHUNK_SIZE) {
          const { bytesRead } = await handle.read(chunk, filled, CHUNK_SIZE - filled, null);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled > 0) yield chunk.subarray(0, filled);
        else buffers.giveBack(chunk);
      }
    } finally {
      await handle.close();
    }
  }
}

/**
 * One reading of any source in chunk_size pieces (the last shorter), each in a buffer from
 * `buffers` that the consumer owns and may hand to a worker.
 */
export function readInChunks(source: ContentSource, buffers: ChunkBuffers): AsyncIterable<Buffer> {
  return source instanceof FileSource
    ? source.chunks(buffers)
    : inChunks(readOnce(source), buffers);
}

export function bufferSource(bytes: Uint8Array): ReopenableSource {
  return {
    async *open() {
      yield bytes;
    },
  };
}

function isReopenable(source: ContentSource): source is ReopenableSource {
  // Checked this way round: some streams (fs.ReadStream) also have an `open` method.
  return !(Symbol.asyncIterator in source);
}

/** One reading of any source. */
export function readOnce(source: ContentSource): AsyncIterable<Uint8Array> {
  return isReopenable(source) ? source.open() : source;
}
