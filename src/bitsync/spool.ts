// The upload spool: a one-pass stream written to a scratch file while it is hashed, so that it can be
// read a second time once content_hash is known. The spool is sealed under a throwaway key, so no
// plaintext reaches the disk, and a spool altered on disk between the readings is detected.
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { hashedReading } from './chunker.js';
import { openInWorker, sealInWorker } from './crypto-workers.js';
import { SourceChangedError } from './errors.js';
import { writeParts } from './file-parts.js';
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

/** The throwaway key serves one spool only, so the segment index is a safe GCM nonce. */
function segmentNonce(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(index, 6, 6);
  return nonce;
}

export async function spoolStream(
  source: AsyncIterable<Uint8Array>,
  directory: string,
): Promise<SpooledContent> {
  const file = path.join(directory, `spool-${randomBytes(12).toString('hex')}.spool`);
  const key = randomBytes(32);
  // Every piece is hashed, in order, before it is handed over to a worker to be sealed.
  const reading = hashedReading(source);
  const handle = await open(file, 'wx', 0o600);
  // One segment being sealed by a worker while the main thread reads and hashes the next, and one
  // being written. Deeper (4 sealing, 4 read ahead) was measured: no faster over HTTP on 2 cores,
  // and the server's peak RSS during a 1 GiB upload rose from 26–51 MiB to 70–107 MiB.
  let writing: Promise<void> = Promise.resolve();
  try {
    const segments = inOrder(reading.chunks, SPOOL_DEPTH, (chunk, index) =>
      sealInWorker(key, segmentNonce(index), NO_ADDITIONAL_DATA, chunk, false),
    );
    for await (const { parts } of segments) {
      await writing;
      writing = writeParts(handle, parts);
      writing.catch(() => undefined); // rethrown when awaited
    }
    await writing;
  } catch (error) {
    await Promise.allSettled([writing]);
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();

  const { contentHash, size } = reading.result();
  return {
    size,
    contentHash,
    chunks: () => readSpool(file, key, size),
    discard: () => rm(file, { force: true }),
  };
}

/** The plaintext again: the next segment read and opened while the consumer takes this one. */
async function* readSpool(file: string, key: Buffer, size: number): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const count = chunkCount(size);
    yield* inOrder(indexRange(0, count - 1), SPOOL_DEPTH, async (index) => {
      const length = chunkPlaintextLength(size, index) + BLOB_OVERHEAD;
      const segment = Buffer.allocUnsafeSlow(length);
      const { bytesRead } = await handle.read(segment, 0, length, index * SEGMENT_BYTES);
      // Our own nonce at the front, or the segment is not the one written there.
      if (bytesRead !== length || !segment.subarray(0, 12).equals(segmentNonce(index))) {
        throw new SourceChangedError();
      }
      const opened = await openInWorker(key, NO_ADDITIONAL_DATA, segment, undefined);
      if ('failure' in opened) throw new SourceChangedError();
      return opened.plaintext;
    });
  } finally {
    await handle.close();
  }
}
