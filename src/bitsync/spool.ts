// The upload spool: a one-pass stream written to a scratch file while it is hashed, so that it can be
// read a second time once content_hash is known. The spool is sealed under a throwaway key, so no
// plaintext reaches the disk, and a spool altered on disk between the readings is detected.
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { counterNonce } from './chunk-cipher.js';
import { ChunkBuffers, hashedReading, inChunks } from './chunker.js';
import { openInWorker, sealToFileInWorker } from './crypto-workers.js';
import { SourceChangedError } from './errors.js';
import { BLOB_OVERHEAD, CHUNK_SIZE, chunkCount, chunkPlaintextLength } from './format.js';
import { indexRange, inOrder } from './pipeline.js';

/** Each chunk_size piece of plaintext is one segment on disk: nonce ‖ ciphertext ‖ tag. */
const SEGMENT_BYTES = CHUNK_SIZE + BLOB_OVERHEAD;
const NO_ADDITIONAL_DATA = new Uint8Array(0);
/** Segments in flight in each of the spool's readings (see spoolStream). */
const SPOOL_DEPTH = 2;

export interface SpooledContent {
  size: number;
  contentHash: string;
  /** The plaintext again, in chunk_size pieces; throws SourceChangedError if the spool was altered. */
  chunks(): AsyncIterable<Buffer>;
  /** Deletes the spool file; safe to call more than once. */
  discard(): Promise<void>;
}

/** Spools `source`; both readings fill and give back chunk buffers from `buffers`. */
export async function spoolStream(
  source: AsyncIterable<Uint8Array>,
  directory: string,
  buffers: ChunkBuffers = new ChunkBuffers(),
): Promise<SpooledContent> {
  const file = path.join(directory, `spool-${randomBytes(12).toString('hex')}.spool`);
  const key = randomBytes(32);
  // Every piece is hashed, in order, before it is handed over to a worker to be sealed.
  const reading = hashedReading(inChunks(source, buffers));
  const handle = await open(file, 'wx', 0o600);
  // The workers seal each segment and write it at its own place in the file themselves (so its
  // ciphertext never crosses threads): one segment being sealed and written while the main thread
  // reads and hashes the next. Deeper (4 sealing, 4 read ahead) was measured: no faster over HTTP on
  // 2 cores, and the server's peak RSS during a 1 GiB upload rose from 26–51 MiB to 70–107 MiB.
  try {
    const segments = inOrder(reading.chunks, SPOOL_DEPTH, (chunk, index) =>
      sealToFileInWorker(
        key,
        counterNonce(index),
        NO_ADDITIONAL_DATA,
        chunk,
        false,
        { fd: handle.fd, position: index * SEGMENT_BYTES },
        true,
      ),
    );
    for await (const { plaintext } of segments) buffers.giveBack(plaintext);
  } catch (error) {
    // inOrder has settled every write it started, so none still uses the handle.
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();

  const { contentHash, size } = reading.result();
  return {
    size,
    contentHash,
    chunks: () => readSpool(file, key, size, buffers),
    discard: () => rm(file, { force: true }),
  };
}

/** The plaintext again: the next segment read and opened (by a worker) while the consumer takes this one. */
async function* readSpool(
  file: string,
  key: Buffer,
  size: number,
  buffers: ChunkBuffers,
): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const count = chunkCount(size);
    yield* inOrder(indexRange(0, count - 1), SPOOL_DEPTH, async (index) => {
      const length = chunkPlaintextLength(size, index) + BLOB_OVERHEAD;
      const from = { fd: handle.fd, position: index * SEGMENT_BYTES, length };
      // Our own nonce at the front, or the segment is not the one written there.
      const checks = { expectedLength: length, expectedNonce: counterNonce(index) };
      const opened = await openInWorker(key, NO_ADDITIONAL_DATA, from, checks, buffers.take());
      if ('failure' in opened) throw new SourceChangedError();
      return opened.plaintext;
    });
  } finally {
    await handle.close();
  }
}
