// Where new content comes from, and how it is read twice. content_hash is in every chunk's additional
// data, so the whole plaintext must be hashed before chunk 0 can be sealed: a source that can be
// reopened is simply read twice; a one-pass stream is spooled (spool.ts) while it is hashed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { ChunkBuffers, inChunks } from './chunker.js';
import { SourceChangedError } from './errors.js';
import { CHUNK_SIZE } from './format.js';
import { spoolStream } from './spool.js';

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

/** Content after its first reading: its hash and size are known, its chunks can be read again. */
export interface HashedContent {
  size: number;
  contentHash: string;
  /** The plaintext in chunk_size pieces; throws SourceChangedError if it differs from the first reading. */
  chunks(): AsyncIterable<Buffer>;
  /** Frees what the first reading kept (the spool). */
  release(): Promise<void>;
}

function isReopenable(source: ContentSource): source is ReopenableSource {
  // Checked this way round: some streams (fs.ReadStream) also have an `open` method.
  return !(Symbol.asyncIterator in source);
}

/** One reading of any source. */
export function readOnce(source: ContentSource): AsyncIterable<Uint8Array> {
  return isReopenable(source) ? source.open() : source;
}

/** The first reading; the second fills chunk buffers from `buffers`, given back by its consumer. */
export async function hashContent(
  source: ContentSource,
  scratchDirectory: string,
  buffers: ChunkBuffers = new ChunkBuffers(),
): Promise<HashedContent> {
  if (!isReopenable(source)) {
    const spool = await spoolStream(source, scratchDirectory, buffers);
    return { ...spool, release: spool.discard };
  }

  const hasher = createHash('sha256');
  let size = 0;
  // A file is hashed through the reused chunk buffers; other sources' pieces are hashed as they come.
  const fromFile = source instanceof FileSource;
  for await (const piece of fromFile ? source.chunks(buffers) : source.open()) {
    hasher.update(piece);
    size += piece.length;
    if (fromFile) buffers.giveBack(piece);
  }
  const contentHash = hasher.digest('hex');
  return {
    size,
    contentHash,
    chunks: () => rereadChecked(source, size, contentHash, buffers),
    release: async () => undefined,
  };
}

/** The second reading of a reopenable source, hashed again so a file changed in between is caught. */
async function* rereadChecked(
  source: ReopenableSource,
  size: number,
  contentHash: string,
  buffers: ChunkBuffers,
): AsyncGenerator<Buffer> {
  const hasher = createHash('sha256');
  let seen = 0;
  for await (const chunk of readInChunks(source, buffers)) {
    seen += chunk.length;
    if (seen > size) throw new SourceChangedError();
    hasher.update(chunk);
    yield chunk;
  }
  if (seen !== size || hasher.digest('hex') !== contentHash) throw new SourceChangedError();
}
