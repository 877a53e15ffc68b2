// Where new content comes from, and how it is read twice. content_hash is in every chunk's additional
// data, so the whole plaintext must be hashed before chunk 0 can be sealed: a source that can be
// reopened is simply read twice; a one-pass stream is spooled (spool.ts) while it is hashed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { inChunks, type ChunkBuffers } from './chunker.js';
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
  return { open: () => createReadStream(file, { highWaterMark: CHUNK_SIZE }) };
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
  buffers?: ChunkBuffers,
): Promise<HashedContent> {
  if (!isReopenable(source)) {
    const spool = await spoolStream(source, scratchDirectory, buffers);
    return { ...spool, release: spool.discard };
  }

  const hasher = createHash('sha256');
  let size = 0;
  for await (const piece of source.open()) {
    hasher.update(piece);
    size += piece.length;
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
  buffers: ChunkBuffers | undefined,
): AsyncGenerator<Buffer> {
  const hasher = createHash('sha256');
  let seen = 0;
  for await (const chunk of inChunks(source.open(), buffers)) {
    seen += chunk.length;
    if (seen > size) throw new SourceChangedError();
    hasher.update(chunk);
    yield chunk;
  }
  if (seen !== size || hasher.digest('hex') !== contentHash) throw new SourceChangedError();
}
