// The upload spool: a one-pass stream written to a scratch file while it is hashed, so that it can be
// read a second time once content_hash is known. The spool is sealed under a throwaway key, so no
// plaintext reaches the disk, and a spool altered on disk between the readings is detected.
import { createHash, randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { inChunks } from './chunker.js';
import { openInWorker, sealInWorker, type Sealed } from './crypto-workers.js';
import { SourceChangedError } from './errors.js';
import { BLOB_OVERHEAD, CHUNK_SIZE, chunkCount, chunkPlaintextLength } from './format.js';

/** Each chunk_size piece of plaintext is one segment on disk: nonce ‖ ciphertext ‖ tag. */
const SEGMENT_BYTES = CHUNK_SIZE + BLOB_OVERHEAD;
const NO_ADDITIONAL_DATA = new Uint8Array(0);

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
  const hasher = createHash('sha256');
  let size = 0;
  const handle = await open(file, 'wx', 0o600);
  // One segment being sealed by a worker while the main thread hashes the next chunk, and one being
  // written: three chunks of work in flight, at most.
  let sealing: Promise<Sealed> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const writeNext = async (next: Promise<Sealed>) => {
    const { sealed } = await next;
    await writing;
    // FileHandle.writeFile appends at the handle's position, looping over short writes.
    writing = handle.writeFile(sealed);
  };
  try {
    let index = 0;
    for await (const chunk of inChunks(source)) {
      hasher.update(chunk);
      size += chunk.length;
      // Dispatched only after hashing: the chunk is handed over to the worker.
      const next = sealInWorker(key, segmentNonce(index++), NO_ADDITIONAL_DATA, chunk, false);
      next.catch(() => undefined); // rethrown when awaited below
      if (sealing !== undefined) await writeNext(sealing);
      sealing = next;
    }
    if (sealing !== undefined) await writeNext(sealing);
    await writing;
  } catch (error) {
    await Promise.allSettled([sealing, writing]);
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();

  const contentHash = hasher.digest('hex');
  return {
    size,
    contentHash,
    chunks: () => readSpool(file, key, size),
    discard: () => rm(file, { force: true }),
  };
}

async function* readSpool(file: string, key: Buffer, size: number): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    for (let index = 0; index < chunkCount(size); index++) {
      const length = chunkPlaintextLength(size, index) + BLOB_OVERHEAD;
      const segment = Buffer.allocUnsafeSlow(length);
      const { bytesRead } = await handle.read(segment, 0, length, index * SEGMENT_BYTES);
      // Our own nonce at the front, or the segment is not the one written there.
      if (bytesRead !== length || !segment.subarray(0, 12).equals(segmentNonce(index))) {
        throw new SourceChangedError();
      }
      const opened = await openInWorker(key, NO_ADDITIONAL_DATA, segment, undefined);
      if ('failure' in opened) throw new SourceChangedError();
      yield opened.plaintext;
    }
  } finally {
    await handle.close();
  }
}
