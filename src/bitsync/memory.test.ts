// Memory stays flat whatever the content's size: creating and reading 64 MiB through a one-pass stream
// must not grow the process by more than a few chunks' worth. A resource assertion, not a timing one.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { generateRsaKeyPair, privateKeyFromDer } from '../crypto/keys.js';
import { createContent } from './create.js';
import { openEnvelope } from './envelope.js';
import { FileChunkStore } from './file-chunk-store.js';
import { readContent } from './read.js';

const MiB = 1024 * 1024;
const CONTENT_BYTES = 64 * MiB;
const GROWTH_BUDGET = 48 * MiB;

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/**
 * `total` bytes in 64 KiB pieces made as they are pulled: the content is never whole in memory. The
 * pieces take turns in a ring of buffers made beforehand, so the garbage a source leaves (the
 * caller's, collected whenever V8 gets to it: up to 40 MiB of ArrayBuffers at a time) does not
 * hide what the library itself holds. The library copies each piece as it arrives, and a stream
 * holds at most one piece ahead (its high-water mark is 16 KiB), so a ring of 32 is never caught up.
 */
const ring = Array.from({ length: 32 }, () => Buffer.allocUnsafeSlow(65_536));
function generated(total: number): Readable {
  const seed = randomBytes(MiB);
  let offset = 0;
  let turn = 0;
  return new Readable({
    read() {
      if (offset >= total) return void this.push(null);
      const size = Math.min(65_536, total - offset);
      const piece = ring[turn++ % ring.length]!.subarray(0, size);
      seed.copy(piece, 0, offset % MiB, (offset % MiB) + size);
      piece.writeUInt32BE(offset >>> 0, 0); // no two pieces alike
      offset += size;
      this.push(piece);
    },
  });
}

interface Peak {
  rss: number;
  arrayBuffers: number;
}

function sampleWhile<T>(work: () => Promise<T>): Promise<{ result: T; peak: Peak }> {
  const peak: Peak = { rss: 0, arrayBuffers: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, usage.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  return work().then(
    (result) => {
      clearInterval(timer);
      sample();
      return { result, peak };
    },
    (error: unknown) => {
      clearInterval(timer);
      throw error;
    },
  );
}

it('creates and reads 64 MiB with bounded memory growth', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-bitsync-memory-'));
  roots.push(root);
  const store = await FileChunkStore.open(root);
  const key = await generateRsaKeyPair();
  const options = {
    store,
    metadata: { filename: 'big.bin', mime_type: 'application/octet-stream' },
    instanceKey: key.publicKey,
  };
  // Warm up first, so one-time costs are not counted as growth: code loading and JIT, the crypto
  // worker's own heap, and the allocator arenas its threads settle into (together some tens of MiB,
  // paid once per process whatever the content's size).
  const warm = await createContent({ ...options, source: generated(16 * MiB) });
  for await (const piece of readContent({
    store,
    manifest: warm.manifest,
    dek: openEnvelope(warm.manifest, privateKeyFromDer(key.privateKeyDer)),
  })) {
    void piece;
  }

  const before = process.memoryUsage();
  const { result, peak } = await sampleWhile(async () => {
    const { manifest } = await createContent({ ...options, source: generated(CONTENT_BYTES) });
    const hasher = createHash('sha256');
    let size = 0;
    for await (const piece of readContent({
      store,
      manifest,
      dek: openEnvelope(manifest, privateKeyFromDer(key.privateKeyDer)),
    })) {
      hasher.update(piece as Buffer);
      size += (piece as Buffer).length;
    }
    return { manifest, size, hash: hasher.digest('hex') };
  });

  expect(result.size).toBe(CONTENT_BYTES);
  expect(result.hash).toBe(result.manifest.content_hash);
  const growth = {
    rss: peak.rss - before.rss,
    arrayBuffers: peak.arrayBuffers - before.arrayBuffers,
  };
  console.log(
    `64 MiB create + read: peak growth rss ${(growth.rss / MiB).toFixed(1)} MiB, arrayBuffers ${(growth.arrayBuffers / MiB).toFixed(1)} MiB`,
  );
  expect(growth.rss).toBeLessThan(GROWTH_BUDGET);
  expect(growth.arrayBuffers).toBeLessThan(GROWTH_BUDGET);
});
