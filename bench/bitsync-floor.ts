// The floor for creating BitSync content on this machine: only the work the v1 format forces on any
// implementation, written as plainly as possible, with none of the library's checks, pipelines or
// stores. One pass with the content hash known up front (the cheapest create there is): SHA-256 of
// the whole on this thread; on one worker thread, each 512 KiB chunk sealed with AES-256-GCM,
// its blob hashed and written durably (temp file, fsync, rename into a folder by hash prefix, the
// folders synced at the end). Every create path of the library does at least this work, so none can
// be faster than this figure beyond the noise between two measurements; if it is below a target, so
// is any implementation of the format on that machine.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const CHUNK_BYTES = 524288;

// Plain JavaScript for the worker: seal in 16 KiB pieces (as the library does: small outputs the
// allocator reuses), hash the blob, write it, fsync on the thread pool, rename.
const FLOOR_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { createCipheriv, createHash, randomBytes } = require('node:crypto');
parentPort.on('message', ({ index, buffer, length, key, contentHash, directory }) => {
  const plaintext = Buffer.from(buffer, 0, length);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from('axon-bitsync-v1:' + contentHash + ':' + index, 'ascii'));
  const hasher = createHash('sha256').update(nonce);
  const parts = [nonce];
  for (let offset = 0; offset < length; offset += 16384) {
    const piece = cipher.update(plaintext.subarray(offset, offset + 16384));
    hasher.update(piece);
    parts.push(piece);
  }
  cipher.final();
  const tag = cipher.getAuthTag();
  hasher.update(tag);
  parts.push(tag);
  const hash = hasher.digest('hex');
  const temporary = path.join(directory, 'tmp', index + '.partial');
  const fd = fs.openSync(temporary, 'wx');
  fs.writevSync(fd, parts);
  fs.fsync(fd, (error) => {
    fs.closeSync(fd);
    if (error) throw error;
    fs.renameSync(temporary, path.join(directory, 'blobs', hash.slice(0, 2), hash));
    parentPort.postMessage({ index, hash, buffer }, [buffer]);
  });
});
`;

/**
 * Creates `content` (pieces of any size) in `directory` the bare way, `inFlight` chunks at a time,
 * with `contentHash` declared; answers the chunk hashes. Throws if the bytes do not hash to it.
 */
export async function createFloor(
  directory: string,
  content: AsyncIterable<Uint8Array>,
  contentHash: string,
  inFlight: number,
): Promise<string[]> {
  await mkdir(path.join(directory, 'tmp'), { recursive: true });
  await Promise.all(
    Array.from({ length: 256 }, (_, prefix) =>
      mkdir(path.join(directory, 'blobs', prefix.toString(16).padStart(2, '0')), {
        recursive: true,
      }),
    ),
  );
  const worker = new Worker(FLOOR_WORKER_SOURCE, { eval: true });
  const key = randomBytes(32);
  const hashes: string[] = [];
  const spare: ArrayBuffer[] = Array.from(
    { length: inFlight + 1 },
    () => new ArrayBuffer(CHUNK_BYTES),
  );
  let sealing = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  const settled = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  worker.on(
    'message',
    ({ index, hash, buffer }: { index: number; hash: string; buffer: ArrayBuffer }) => {
      hashes[index] = hash;
      spare.push(buffer);
      sealing--;
      settled();
    },
  );
  worker.on('error', (error) => {
    failure = error;
    settled();
  });
  const waitWhile = async (busy: () => boolean) => {
    while (busy()) {
      if (failure !== undefined) throw failure;
      await new Promise<void>((resume) => (wake = resume));
    }
    if (failure !== undefined) throw failure;
  };

  try {
    const whole = createHash('sha256');
    let index = 0;
    let current: Uint8Array | undefined;
    let filled = 0;
    const send = async () => {
      await waitWhile(() => sealing >= inFlight);
      sealing++;
      const buffer = current!.buffer as ArrayBuffer;
      worker.postMessage({ index: index++, buffer, length: filled, key, contentHash, directory }, [
        buffer,
      ]);
      current = undefined;
    };
    for await (const piece of content) {
      whole.update(piece);
      let offset = 0;
      while (offset < piece.length) {
        if (current === undefined) {
          await waitWhile(() => spare.length === 0);
          current = new Uint8Array(spare.pop()!);
          filled = 0;
        }
        const count = Math.min(CHUNK_BYTES - filled, piece.length - offset);
        current.set(piece.subarray(offset, offset + count), filled);
        filled += count;
        offset += count;
        if (filled === CHUNK_BYTES) await send();
      }
    }
    if (current !== undefined && filled > 0) await send();
    await waitWhile(() => sealing > 0);
    if (whole.digest('hex') !== contentHash) throw new Error('the floor read other bytes');
    // Every blob name is durable before a manifest could name them (the folders in parallel, as
    // the library's store does).
    await Promise.all(
      Array.from({ length: 256 }, async (_, prefix) => {
        const folder = await open(
          path.join(directory, 'blobs', prefix.toString(16).padStart(2, '0')),
          'r',
        );
        await folder.sync();
        await folder.close();
      }),
    );
    return hashes;
  } finally {
    await worker.terminate();
  }
}
