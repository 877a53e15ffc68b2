// The attachment floor: the work DESIGN.md §7 demands for each chunk of a federated attachment,
// done in this one process with no network, no HTTP server and no database, as many chunks at once
// as a receiver fetches (AXON_CHUNK_FETCHES, default 4): the request signed by the receiver's key
// and checked, the blob read from a store and its answer signed by the sender's key and checked,
// the blob opened (length, SHA-256, AES-256-GCM tag) and stored durably, then the whole read back
// in order, opened and hashed against content_hash (as a receiver checks it before keeping it).
// Both keys' RSA-3072 work runs on this one thread, where the real pair has a process each: on
// this 2-core machine the floor is a bound no federated fetch can pass by more than the noise.
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileChunkStore } from '../../src/bitsync/file-chunk-store.js';
import { openChunk, SealedChunk } from '../../src/bitsync/chunk-cipher.js';
import { CHUNK_SIZE, DEK_BYTES, NONCE_BYTES } from '../../src/bitsync/format.js';
import { generateRsaKeyPair, privateKeyFromDer } from '../../src/crypto/keys.js';
import {
  requestSigningString,
  sha256Hex,
  signRequest,
  signResponse,
  verifyResponse,
  verifyText,
} from '../../src/server/modules/federation/signing.js';
import { MiB } from './options.js';

/** Chunks fetched at once by a receiver (the default of AXON_CHUNK_FETCHES). */
const PARALLEL = 4;

/** Plaintext chunk `index` of a `total`-byte content made from `seed` (each stamped with its index). */
function plaintextOf(seed: Buffer, total: number, index: number): Buffer {
  const piece = Buffer.from(seed.subarray(0, Math.min(CHUNK_SIZE, total - index * CHUNK_SIZE)));
  piece.writeUInt32BE(index, 0);
  return piece;
}

async function keyPair() {
  const pair = await generateRsaKeyPair();
  return {
    privateKey: privateKeyFromDer(pair.privateKeyDer),
    publicKey: createPublicKey(pair.publicKey),
    pubkeyDer: createPublicKey(pair.publicKey).export({ type: 'spki', format: 'der' }),
  };
}

/** MiB/s of the floor for a `total`-byte attachment (setup, not timed: the sealed blobs on disk). */
export async function attachmentFloorMiBs(total: number): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'axon-bench-floor-'));
  try {
    const [sender, receiver] = [await keyPair(), await keyPair()];
    const seed = randomBytes(CHUNK_SIZE);
    const count = Math.ceil(total / CHUNK_SIZE);
    const hasher = createHash('sha256');
    for (let i = 0; i < count; i++) hasher.update(plaintextOf(seed, total, i));
    const contentHash = hasher.digest('hex');
    const dek = randomBytes(DEK_BYTES);
    const source = await FileChunkStore.open(path.join(dir, 'source'));
    const hashes: string[] = [];
    for (let i = 0; i < count; i++) {
      const sealed = await SealedChunk.seal(
        dek,
        contentHash,
        i,
        randomBytes(NONCE_BYTES),
        plaintextOf(seed, total, i),
      );
      await source.add(sealed);
      hashes.push(sealed.hash);
    }
    await source.flush();
    const target = await FileChunkStore.open(path.join(dir, 'target'));

    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const index = next++;
        const hash = hashes[index]!;
        const request = {
          method: 'GET',
          pathAndQuery: `/api/federation/chunks/${hash}`,
          host: '127.0.0.1:1',
          body: Buffer.alloc(0),
        };
        const headers = signRequest(receiver, request);
        const text = requestSigningString({
          ...request,
          timestamp: headers['x-timestamp'],
          nonce: headers['x-nonce'],
          bodyDigest: sha256Hex(request.body),
        });
        if (!verifyText(receiver.publicKey, text, headers['x-signature']))
          throw new Error('floor: request signature');
        const blob = (await source.get(hash))!;
        const signature = signResponse(sender.privateKey, headers['x-nonce'], 200, blob);
        if (!verifyResponse(sender.publicKey, headers['x-nonce'], 200, blob, signature))
          throw new Error('floor: answer signature');
        await openChunk(dek, contentHash, total, { index, hash }, Buffer.from(blob));
        await target.put(hash, blob);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    await target.flush();
    const whole = createHash('sha256');
    for (const [index, hash] of hashes.entries()) {
      const blob = (await target.get(hash))!;
      whole.update(await openChunk(dek, contentHash, total, { index, hash }, blob));
    }
    if (whole.digest('hex') !== contentHash) throw new Error('floor: content hash');
    return total / MiB / ((performance.now() - started) / 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
