// FileChunkStore: layout, hash-checked atomic puts, no overwrite of valid blobs, scratch sweeping.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SealedChunk, SealedChunkFile } from './chunk-cipher.js';
import { BlobRejectedError, InvalidChunkHashError } from './errors.js';
import { FileChunkStore } from './file-chunk-store.js';
import { MAX_BLOB_BYTES } from './format.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function tempStore(): Promise<FileChunkStore> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-store-test-'));
  roots.push(root);
  return FileChunkStore.open(root);
}

function blobOf(size: number): { blob: Buffer; hash: string } {
  const blob = randomBytes(size);
  return { blob, hash: createHash('sha256').update(blob).digest('hex') };
}

async function* failingAfter(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
  throw new Error('connection reset by peer');
}

describe('FileChunkStore', () => {
  it('stores a blob under ab/<hash> and gives it back', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(1000);
    expect(await store.has(hash)).toBe(false);
    expect(await store.get(hash)).toBeUndefined();
    expect(await store.put(hash, blob)).toBe('stored');
    expect(store.pathOf(hash)).toBe(path.join(store.root, 'blobs', hash.slice(0, 2), hash));
    expect(await readFile(store.pathOf(hash))).toEqual(blob);
    expect(await store.has(hash)).toBe(true);
    expect(await store.get(hash)).toEqual(blob);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('accepts a blob as a stream of pieces', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(300_000);
    async function* pieces() {
      for (let offset = 0; offset < blob.length; offset += 7000) {
        yield blob.subarray(offset, offset + 7000);
      }
    }
    expect(await store.put(hash, pieces())).toBe('stored');
    expect(await store.get(hash)).toEqual(blob);
  });

  it('adds a chunk sealed here under the hash computed when it was sealed, once', async () => {
    const store = await tempStore();
    const sealed = await SealedChunk.seal(
      randomBytes(32),
      'a'.repeat(64),
      0,
      randomBytes(12),
      randomBytes(2000),
    );
    const hash = createHash('sha256').update(sealed.blob).digest('hex');
    expect(sealed.hash).toBe(hash);
    expect(await store.add(sealed)).toEqual({ hash, outcome: 'stored' });
    expect(await store.add(sealed)).toEqual({ hash, outcome: 'existing' });
    expect(await store.get(hash)).toEqual(sealed.blob);
  });

  describe('blob files sealed by a worker (adopt)', () => {
    // Fixed inputs, so the same blob can be sealed twice, as the test vector does.
    const dek = randomBytes(32);
    const nonce = randomBytes(12);
    const plaintext = randomBytes(3000);
    const sealInto = (store: FileChunkStore) =>
      SealedChunkFile.seal(
        dek,
        'b'.repeat(64),
        0,
        nonce,
        Buffer.from(plaintext),
        store.scratchFile(),
        false,
      );
    const blobOfChunk = async () =>
      (await SealedChunk.seal(dek, 'b'.repeat(64), 0, nonce, Buffer.from(plaintext))).blob;

    it('names the synced scratch file by its hash and leaves no scratch file', async () => {
      const store = await tempStore();
      const sealed = await sealInto(store);
      const blob = await blobOfChunk();
      expect(sealed.hash).toBe(createHash('sha256').update(blob).digest('hex'));
      expect(await store.adopt(sealed)).toEqual({ hash: sealed.hash, outcome: 'stored' });
      expect(await readFile(store.pathOf(sealed.hash))).toEqual(blob);
      expect(await readdir(store.scratchDirectory)).toEqual([]);
    });

    it('answers existing for a valid blob already there, which it leaves untouched', async () => {
      const store = await tempStore();
      const first = await sealInto(store);
      await store.adopt(first);
      const before = await stat(store.pathOf(first.hash));
      const again = await sealInto(store);
      expect(await store.adopt(again)).toEqual({ hash: first.hash, outcome: 'existing' });
      expect((await stat(store.pathOf(first.hash))).ino).toBe(before.ino);
      expect(await readdir(store.scratchDirectory)).toEqual([]);
    });

    it('replaces a file under the name that fails its hash', async () => {
      const store = await tempStore();
      const first = await sealInto(store);
      await store.adopt(first);
      await writeFile(store.pathOf(first.hash), 'damaged');
      expect(await store.adopt(await sealInto(store))).toEqual({
        hash: first.hash,
        outcome: 'repaired',
      });
      expect(await readFile(store.pathOf(first.hash))).toEqual(await blobOfChunk());
      expect(await readdir(store.scratchDirectory)).toEqual([]);
    });

    it('makes the fan-out folder again if it was removed behind its back', async () => {
      const store = await tempStore();
      const first = await sealInto(store);
      await store.adopt(first);
      await rm(path.dirname(store.pathOf(first.hash)), { recursive: true });
      expect(await store.adopt(await sealInto(store))).toEqual({
        hash: first.hash,
        outcome: 'stored',
      });
      expect(await readFile(store.pathOf(first.hash))).toEqual(await blobOfChunk());
    });
  });

  it('lists and deletes blobs', async () => {
    const store = await tempStore();
    const blobs = [blobOf(100), blobOf(200), blobOf(300)];
    for (const { blob, hash } of blobs) await store.put(hash, blob);
    const listed = [];
    for await (const entry of store.list()) listed.push(entry);
    expect(listed.map((entry) => entry.hash).sort()).toEqual(blobs.map((b) => b.hash).sort());
    expect(listed.every((entry) => entry.modifiedAt instanceof Date)).toBe(true);

    expect(await store.delete(blobs[0]!.hash)).toBe(true);
    expect(await store.delete(blobs[0]!.hash)).toBe(false);
    expect(await store.has(blobs[0]!.hash)).toBe(false);
  });

  it('refuses bytes that do not hash to the name, leaving nothing behind', async () => {
    const store = await tempStore();
    const { hash } = blobOf(1000);
    const other = randomBytes(1000);
    await expect(store.put(hash, other)).rejects.toMatchObject({
      code: 'BITSYNC_BLOB_REJECTED',
      reason: 'hash_mismatch',
    });
    await expect(
      store.put(
        hash,
        (async function* () {
          yield other;
        })(),
      ),
    ).rejects.toBeInstanceOf(BlobRejectedError);
    expect(await store.has(hash)).toBe(false);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('refuses blobs too short or too long to be a chunk, cutting a stream off at the limit', async () => {
    const store = await tempStore();
    const tiny = blobOf(28);
    await expect(store.put(tiny.hash, tiny.blob)).rejects.toMatchObject({ reason: 'wrong_size' });
    const huge = blobOf(MAX_BLOB_BYTES + 1);
    await expect(store.put(huge.hash, huge.blob)).rejects.toMatchObject({ reason: 'wrong_size' });
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield Buffer.alloc(65_536);
      }
    }
    await expect(store.put(huge.hash, endless())).rejects.toMatchObject({ reason: 'wrong_size' });
    expect(pulled).toBeLessThanOrEqual(Math.ceil(MAX_BLOB_BYTES / 65_536) + 1);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('refuses names that are not chunk hashes, so none can escape the store', async () => {
    const store = await tempStore();
    for (const name of ['../../etc/passwd', 'A'.repeat(64), 'ab', `${'a'.repeat(63)}/`]) {
      await expect(store.get(name)).rejects.toBeInstanceOf(InvalidChunkHashError);
      await expect(store.has(name)).rejects.toBeInstanceOf(InvalidChunkHashError);
      await expect(store.delete(name)).rejects.toBeInstanceOf(InvalidChunkHashError);
      await expect(store.put(name, randomBytes(100))).rejects.toBeInstanceOf(InvalidChunkHashError);
    }
  });

  it('never rewrites a valid blob that is already stored', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(5000);
    await store.put(hash, blob);
    const before = await stat(store.pathOf(hash));
    expect(await store.put(hash, blob)).toBe('existing');
    // A stream for a blob already held is not even read.
    let read = false;
    async function* unread() {
      read = true;
      yield blob;
    }
    expect(await store.put(hash, unread())).toBe('existing');
    expect(read).toBe(false);
    const after = await stat(store.pathOf(hash));
    expect(after.ino).toBe(before.ino);
    expect(await readFile(store.pathOf(hash))).toEqual(blob);
  });

  it('replaces a blob that fails its hash with the valid one', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(5000);
    await store.put(hash, blob);
    const damaged = Buffer.from(blob);
    damaged[100]! ^= 0xff;
    await writeFile(store.pathOf(hash), damaged);
    expect(await store.put(hash, blob)).toBe('repaired');
    expect(await store.get(hash)).toEqual(blob);
  });

  it('leaves no file under the name when the bytes stop halfway (atomic put)', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(400_000);
    await expect(store.put(hash, failingAfter(blob.subarray(0, 200_000)))).rejects.toThrow(
      'connection reset by peer',
    );
    expect(await store.has(hash)).toBe(false);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
    // And the same blob can then be stored whole.
    expect(await store.put(hash, blob)).toBe('stored');
  });

  it('reads at most one byte past the largest blob from an oversized file', async () => {
    const store = await tempStore();
    const { blob, hash } = blobOf(1000);
    await store.put(hash, blob);
    await writeFile(store.pathOf(hash), Buffer.alloc(MAX_BLOB_BYTES * 3));
    expect((await store.get(hash))?.length).toBe(MAX_BLOB_BYTES + 1);
  });

  it('sweeps scratch files older than the cut-off and keeps fresh ones', async () => {
    const store = await tempStore();
    const stale = path.join(store.scratchDirectory, 'first-pass-stale');
    const fresh = path.join(store.scratchDirectory, 'put-fresh.partial');
    await writeFile(stale, 'x');
    await writeFile(fresh, 'y');
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(stale, longAgo, longAgo);
    expect(await store.sweepScratch(new Date(Date.now() - 3600_000))).toEqual(['first-pass-stale']);
    expect(await readdir(store.scratchDirectory)).toEqual(['put-fresh.partial']);
  });
});
