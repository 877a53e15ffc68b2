// Every way stored content can go wrong is caught with a typed error naming the chunk, by reads and by
// verification; garbage collection removes only what no manifest references.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRsaKeyPair, privateKeyFromDer, type KeyPair } from '../crypto/keys.js';
import { SealedChunk } from './chunk-cipher.js';
import { bufferSource } from './content-source.js';
import { createContent } from './create.js';
import { openEnvelope } from './envelope.js';
import { BitSyncIntegrityError, EnvelopeNotFoundError, type IntegrityFailure } from './errors.js';
import { FileChunkStore } from './file-chunk-store.js';
import { CHUNK_SIZE } from './format.js';
import { collectGarbage } from './gc.js';
import type { Manifest } from './manifest.js';
import { readContent, type ByteRange } from './read.js';
import { verifyContent } from './verify.js';

const roots: string[] = [];
let owner: KeyPair;
let stranger: KeyPair;

beforeAll(async () => {
  [owner, stranger] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
});
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function tempStore(): Promise<FileChunkStore> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-bitsync-test-'));
  roots.push(root);
  return FileChunkStore.open(root);
}

const SIZE = 2 * CHUNK_SIZE + 1000;

interface Stored {
  store: FileChunkStore;
  manifest: Manifest;
  plaintext: Buffer;
  dek: Buffer;
}

async function storeContent(size = SIZE): Promise<Stored> {
  const store = await tempStore();
  const plaintext = randomBytes(size);
  const { manifest } = await createContent({
    store,
    source: bufferSource(plaintext),
    metadata: { filename: 'notes.txt', mime_type: 'text/plain' },
    instanceKey: owner.publicKey,
  });
  return {
    store,
    manifest,
    plaintext,
    dek: openEnvelope(manifest, privateKeyFromDer(owner.privateKeyDer)),
  };
}

async function drain(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

/** Reads, expecting a BitSyncIntegrityError; returns it with the bytes released before it. */
async function failingRead(
  stored: Pick<Stored, 'store' | 'manifest' | 'dek'>,
  range?: ByteRange,
): Promise<{ error: BitSyncIntegrityError; released: number }> {
  let released = 0;
  try {
    for await (const piece of readContent({ ...stored, range }))
      released += (piece as Buffer).length;
  } catch (error) {
    expect(error).toBeInstanceOf(BitSyncIntegrityError);
    return { error: error as BitSyncIntegrityError, released };
  }
  throw new Error('the read succeeded');
}

function expectFailure(
  error: BitSyncIntegrityError,
  reason: IntegrityFailure,
  chunk?: { index: number; hash: string },
): void {
  expect(error.reason).toBe(reason);
  expect(error.code).toBe('BITSYNC_INTEGRITY');
  expect(error.chunk).toEqual(chunk);
  if (chunk !== undefined) expect(error.message).toContain(chunk.hash);
}

const chunkAt = (manifest: Manifest, index: number) => ({ index, hash: manifest.chunks[index]! });

describe('reading damaged content', () => {
  it('refuses a blob with one flipped byte, releasing nothing of it', async () => {
    const stored = await storeContent();
    const file = stored.store.pathOf(stored.manifest.chunks[1]!);
    const blob = await readFile(file);
    blob[5000]! ^= 0x01;
    await writeFile(file, blob);
    const { error, released } = await failingRead(stored);
    expectFailure(error, 'hash_mismatch', chunkAt(stored.manifest, 1));
    expect(released).toBeLessThanOrEqual(CHUNK_SIZE);
  });

  it('refuses a missing blob', async () => {
    const stored = await storeContent();
    await stored.store.delete(stored.manifest.chunks[2]!);
    expectFailure((await failingRead(stored)).error, 'missing', chunkAt(stored.manifest, 2));
  });

  it('refuses a truncated blob', async () => {
    const stored = await storeContent();
    const file = stored.store.pathOf(stored.manifest.chunks[0]!);
    await writeFile(file, (await readFile(file)).subarray(0, 1000));
    expectFailure((await failingRead(stored)).error, 'hash_mismatch', chunkAt(stored.manifest, 0));
  });

  it('refuses blobs swapped between positions, in the manifest or on disk', async () => {
    const stored = await storeContent();
    const [first, second] = stored.manifest.chunks as [string, string, string];
    // In the manifest: each blob hashes to its name, but its GCM tag binds it to its own position.
    const reordered = { ...stored.manifest, chunks: [second, first, stored.manifest.chunks[2]!] };
    expectFailure(
      (await failingRead({ ...stored, manifest: reordered })).error,
      'authentication_failed',
      {
        index: 0,
        hash: second,
      },
    );
    // On disk: the bytes no longer hash to the names they are filed under.
    const [a, b] = await Promise.all([
      readFile(stored.store.pathOf(first)),
      readFile(stored.store.pathOf(second)),
    ]);
    await writeFile(stored.store.pathOf(first), b);
    await writeFile(stored.store.pathOf(second), a);
    expectFailure((await failingRead(stored)).error, 'hash_mismatch', chunkAt(stored.manifest, 0));
  });

  it('refuses a blob moved in from another content', async () => {
    const one = await storeContent();
    const other = await storeContent();
    const foreign = other.manifest.chunks[0]!;
    await one.store.put(foreign, (await other.store.get(foreign))!);
    const spliced = { ...one.manifest, chunks: [foreign, ...one.manifest.chunks.slice(1)] };
    expectFailure(
      (await failingRead({ ...one, manifest: spliced })).error,
      'authentication_failed',
      { index: 0, hash: foreign },
    );
  });

  it('refuses a wrong DEK, and a DEK from an envelope swapped in from another content', async () => {
    const stored = await storeContent();
    expectFailure(
      (await failingRead({ ...stored, dek: randomBytes(32) })).error,
      'authentication_failed',
      chunkAt(stored.manifest, 0),
    );
    const other = await storeContent(10);
    const swapped = { ...stored.manifest, encrypted_aes_keys: other.manifest.encrypted_aes_keys };
    const dek = openEnvelope(swapped, privateKeyFromDer(owner.privateKeyDer));
    expectFailure(
      (await failingRead({ ...stored, dek })).error,
      'authentication_failed',
      chunkAt(stored.manifest, 0),
    );
  });

  it('refuses an altered envelope and a key that has none', async () => {
    const stored = await storeContent(10);
    const wrapped = Buffer.from(stored.manifest.encrypted_aes_keys[owner.fingerprint]!, 'base64');
    wrapped[10]! ^= 0x80;
    const altered = {
      ...stored.manifest,
      encrypted_aes_keys: { [owner.fingerprint]: wrapped.toString('base64') },
    };
    const opening = () => openEnvelope(altered, privateKeyFromDer(owner.privateKeyDer));
    expect(opening).toThrow(BitSyncIntegrityError);
    expect(opening).toThrow(/envelope invalid/);
    expect(() => openEnvelope(stored.manifest, privateKeyFromDer(stranger.privateKeyDer))).toThrow(
      EnvelopeNotFoundError,
    );
  });

  it('refuses a manifest whose content_hash was altered', async () => {
    const stored = await storeContent();
    const tampered = {
      ...stored.manifest,
      content_hash: createHash('sha256').update('x').digest('hex'),
    };
    const { error, released } = await failingRead({ ...stored, manifest: tampered });
    expect(error.reason).toBe('authentication_failed');
    expect(error.chunk).toEqual(chunkAt(stored.manifest, 0));
    expect(released).toBe(0);

    const empty = await storeContent(0);
    const emptyTampered = { ...empty.manifest, content_hash: tampered.content_hash };
    expectFailure(
      (await failingRead({ ...empty, manifest: emptyTampered })).error,
      'content_hash_mismatch',
    );
  });

  it('refuses a manifest whose size was altered within the same chunk count', async () => {
    const stored = await storeContent();
    const shrunk = { ...stored.manifest, size: stored.manifest.size - 1 };
    expectFailure(
      (await failingRead({ ...stored, manifest: shrunk })).error,
      'wrong_length',
      chunkAt(stored.manifest, 2),
    );
  });

  it('withholds the last chunk of content whose plaintext does not match content_hash', async () => {
    // A forger seals honest-looking chunks under a content_hash that is not the plaintext's.
    const store = await tempStore();
    const plaintext = randomBytes(CHUNK_SIZE + 500);
    const claimed = createHash('sha256').update('something else').digest('hex');
    const dek = randomBytes(32);
    const chunks: string[] = [];
    for (const [index, piece] of [
      plaintext.subarray(0, CHUNK_SIZE),
      plaintext.subarray(CHUNK_SIZE),
    ].entries()) {
      const { hash } = await store.add(
        await SealedChunk.seal(dek, claimed, index, randomBytes(12), piece),
      );
      chunks.push(hash);
    }
    const manifest: Manifest = {
      version: 1,
      content_hash: claimed,
      size: plaintext.length,
      chunk_size: CHUNK_SIZE,
      chunks,
      encrypted_aes_keys: { [owner.fingerprint]: randomBytes(384).toString('base64') },
      created_at: new Date().toISOString(),
      metadata: { filename: 'forged.bin', mime_type: 'application/octet-stream' },
    };
    const { error, released } = await failingRead({ store, manifest, dek });
    expectFailure(error, 'content_hash_mismatch');
    expect(released).toBe(CHUNK_SIZE);
    // A range cannot be checked against content_hash: its chunks authenticate, so it is served.
    const range = { start: 10, end: CHUNK_SIZE + 20 };
    const part = await drain(readContent({ store, manifest, dek, range }));
    expect(part.equals(plaintext.subarray(10, CHUNK_SIZE + 21))).toBe(true);

    const report = await verifyContent({ store, manifest, deep: { dek } });
    expect(report).toMatchObject({ ok: false, contentHashCheck: 'mismatch', problems: [] });
  });

  it('serves a range whose chunks are intact when another chunk is damaged, and refuses one that is not', async () => {
    const stored = await storeContent();
    await stored.store.delete(stored.manifest.chunks[2]!);
    const intact = await drain(
      readContent({ ...stored, range: { start: 5, end: CHUNK_SIZE + 5 } }),
    );
    expect(intact.equals(stored.plaintext.subarray(5, CHUNK_SIZE + 6))).toBe(true);
    const { error } = await failingRead(stored, { start: SIZE - 10, end: SIZE - 1 });
    expectFailure(error, 'missing', chunkAt(stored.manifest, 2));
  });
});

describe('verifyContent', () => {
  it('passes intact content, shallow and deep', async () => {
    const stored = await storeContent();
    expect(await verifyContent(stored)).toMatchObject({
      ok: true,
      missing: [],
      corrupt: [],
      contentHashCheck: 'not_checked',
    });
    expect(await verifyContent({ ...stored, deep: { dek: stored.dek } })).toMatchObject({
      ok: true,
      contentHashCheck: 'valid',
    });
  });

  it('names missing and corrupt chunks without decrypting', async () => {
    const stored = await storeContent();
    const [first, second, third] = stored.manifest.chunks as [string, string, string];
    const file = stored.store.pathOf(second);
    const blob = await readFile(file);
    blob[blob.length - 1]! ^= 0x01;
    await writeFile(file, blob);
    await stored.store.delete(third);
    const report = await verifyContent(stored);
    expect(report.ok).toBe(false);
    expect(report.missing).toEqual([third]);
    expect(report.corrupt).toEqual([second]);
    expect(report.problems).toEqual([
      { index: 1, hash: second, reason: 'hash_mismatch' },
      { index: 2, hash: third, reason: 'missing' },
    ]);
    expect(report.corrupt).not.toContain(first);
  });

  it('in deep mode, names chunks that fail their GCM tag', async () => {
    const stored = await storeContent();
    const report = await verifyContent({ ...stored, deep: { dek: randomBytes(32) } });
    expect(report.ok).toBe(false);
    expect(report.corrupt).toEqual(stored.manifest.chunks);
    expect(report.problems.every((p) => p.reason === 'authentication_failed')).toBe(true);
    expect(report.contentHashCheck).toBe('not_checked');
  });
});

describe('collectGarbage', () => {
  it('removes only blobs no referenced manifest names, and stale scratch files', async () => {
    const store = await tempStore();
    const create = (bytes: Buffer) =>
      createContent({
        store,
        source: bufferSource(bytes),
        metadata: { filename: 'a.bin', mime_type: 'application/octet-stream' },
        instanceKey: owner.publicKey,
      });
    const kept = await create(randomBytes(CHUNK_SIZE + 1));
    const dropped = await create(randomBytes(CHUNK_SIZE * 2));
    const stale = path.join(store.scratchDirectory, 'first-pass-crashed');
    await writeFile(stale, 'left by a crash');
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(stale, longAgo, longAgo);

    // Within the grace period nothing is removed: an upload may not have committed its manifest.
    const early = await collectGarbage({ store, referenced: [kept.manifest] });
    expect(early.removedBlobs).toEqual([]);
    expect(early.removedScratch).toEqual(['first-pass-crashed']);
    expect(early.sparedBlobs.sort()).toEqual([...dropped.manifest.chunks].sort());

    const report = await collectGarbage({ store, referenced: [kept.manifest], blobGraceMs: -1000 });
    expect(report.removedBlobs.sort()).toEqual([...dropped.manifest.chunks].sort());
    expect(report.removedScratch).toEqual([]);
    expect(await verifyContent({ store, manifest: kept.manifest })).toMatchObject({ ok: true });
    for (const hash of dropped.manifest.chunks) expect(await store.has(hash)).toBe(false);
  });
});
