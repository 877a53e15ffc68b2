// Creating and reading content: round trips at every chunk boundary, byte ranges, sources, dedup and
// re-keying. Everything runs against a real FileChunkStore in a temporary directory.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateRsaKeyPair,
  privateKeyFromDer,
  PublicKeyFormatError,
  type KeyPair,
} from '../crypto/keys.js';
import type { AddedBlob, BlobSource, ChunkStore, PutOutcome, StoredBlob } from './chunk-store.js';
import type { SealedChunk } from './chunk-cipher.js';
import { bufferSource, fileSource, type ContentSource } from './content-source.js';
import { createContent, type CreateContentOptions } from './create.js';
import { openEnvelope, rekeyManifest, revokeEnvelope } from './envelope.js';
import {
  DeclaredHashMismatchError,
  EnvelopeNotFoundError,
  LastEnvelopeError,
  ManifestFormatError,
  RangeNotSatisfiableError,
  SourceChangedError,
} from './errors.js';
import { FileChunkStore } from './file-chunk-store.js';
import { CHUNK_SIZE } from './format.js';
import type { Manifest } from './manifest.js';
import { readContent, type ByteRange } from './read.js';

const roots: string[] = [];
let instance: KeyPair;
let peer: KeyPair;

beforeAll(async () => {
  [instance, peer] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
});
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function tempDirectory(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-bitsync-test-'));
  roots.push(root);
  return root;
}

async function tempStore(): Promise<FileChunkStore> {
  return FileChunkStore.open(await tempDirectory());
}

/** A one-pass stream of `bytes` in uneven pieces, as an upload arrives. */
function uploadOf(bytes: Buffer): ContentSource {
  const pieces: Buffer[] = [];
  for (let offset = 0, step = 1; offset < bytes.length; offset += step, step = step * 3 + 1) {
    pieces.push(bytes.subarray(offset, offset + step));
  }
  return Readable.from(pieces);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function create(
  store: ChunkStore,
  source: ContentSource,
  extra: Partial<CreateContentOptions> = {},
): ReturnType<typeof createContent> {
  return createContent({
    store,
    source,
    metadata: { filename: 'cat.jpg', mime_type: 'image/jpeg' },
    instanceKey: instance.publicKey,
    // A store without local files makes its scratch folder in its inner store's, where tests look.
    ...(store instanceof CountingChunkStore ? { scratchDirectory: store.scratchDirectory } : {}),
    ...extra,
  });
}

/** A reopenable source that tells whether it was ever opened. */
function watchedSource(): { source: ContentSource; opened: () => boolean } {
  let opened = false;
  const source = {
    open: () => {
      opened = true;
      return bufferSource(Buffer.from('x')).open();
    },
  };
  return { source, opened: () => opened };
}

function dekOf(manifest: Manifest, key: KeyPair = instance): Buffer {
  return openEnvelope(manifest, privateKeyFromDer(key.privateKeyDer));
}

async function storedHashes(store: ChunkStore): Promise<string[]> {
  const hashes: string[] = [];
  for await (const blob of store.list()) hashes.push(blob.hash);
  return hashes.sort();
}

/** A real FileChunkStore underneath, counting what reaches it. */
class CountingChunkStore implements ChunkStore {
  puts = 0;
  readonly gets: string[] = [];
  constructor(readonly inner: FileChunkStore) {}
  get scratchDirectory() {
    return this.inner.scratchDirectory;
  }
  has(hash: string) {
    return this.inner.has(hash);
  }
  get(hash: string) {
    this.gets.push(hash);
    return this.inner.get(hash);
  }
  put(hash: string, blob: BlobSource): Promise<PutOutcome> {
    this.puts++;
    return this.inner.put(hash, blob);
  }
  add(chunk: SealedChunk): Promise<AddedBlob> {
    this.puts++;
    return this.inner.add(chunk);
  }
  flush() {
    return this.inner.flush();
  }
  delete(hash: string) {
    return this.inner.delete(hash);
  }
  list(): AsyncIterable<StoredBlob> {
    return this.inner.list();
  }
}

describe('round trips', () => {
  const sizes: Array<[string, number]> = [
    ['empty', 0],
    ['one byte', 1],
    ['chunk_size − 1', CHUNK_SIZE - 1],
    ['chunk_size', CHUNK_SIZE],
    ['chunk_size + 1', CHUNK_SIZE + 1],
    ['3 chunks + partial', 3 * CHUNK_SIZE + 12_345],
  ];

  it.each(sizes)('%s, from an upload stream and from a reopenable source', async (_what, size) => {
    const plaintext = randomBytes(size);
    for (const source of [uploadOf(plaintext), bufferSource(plaintext)]) {
      const store = await tempStore();
      const { manifest, reused } = await create(store, source);
      expect(reused).toBe(false);
      expect(manifest).toMatchObject({
        version: 1,
        content_hash: sha256(plaintext),
        size,
        chunk_size: CHUNK_SIZE,
      });
      expect(manifest.chunks).toHaveLength(Math.ceil(size / CHUNK_SIZE));
      expect(Object.keys(manifest.encrypted_aes_keys)).toEqual([instance.fingerprint]);
      // Exactly the manifest's blobs are stored, each hashed to its name, and no scratch file is left.
      expect(await storedHashes(store)).toEqual([...manifest.chunks].sort());
      for (const hash of manifest.chunks) expect(sha256((await store.get(hash))!)).toBe(hash);
      expect(await readdir(store.scratchDirectory)).toEqual([]);

      const read = await readAll(readContent({ store, manifest, dek: dekOf(manifest) }));
      expect(read.equals(plaintext)).toBe(true);
    }
  });

  it('creates through a scratch folder for a store without local files, leaving nothing there', async () => {
    const plaintext = Buffer.alloc(CHUNK_SIZE * 2 + 77, 'SECRET-UPLOAD-');
    const store = new CountingChunkStore(await tempStore());
    const scratchDirectory = store.scratchDirectory;
    let seen: { mode: number; files: Buffer[] } | undefined;
    // The dedup lookup runs between the two passes: the first pass's files are all there.
    const findManifest = async () => {
      const [folder, ...others] = await readdir(scratchDirectory);
      expect(others).toEqual([]);
      const inside = path.join(scratchDirectory, folder!);
      const names = await readdir(inside);
      seen = {
        mode: (await stat(inside)).mode & 0o777,
        files: await Promise.all(names.map((name) => readFile(path.join(inside, name)))),
      };
      return undefined;
    };
    const { manifest } = await create(store, uploadOf(plaintext), { findManifest });
    expect(seen?.mode).toBe(0o700);
    expect(seen?.files).toHaveLength(3);
    // Ciphertext only: no plaintext ever reached the disk.
    for (const bytes of seen!.files) expect(bytes.includes('SECRET-UPLOAD-')).toBe(false);
    expect(store.puts).toBe(3);
    expect(await storedHashes(store)).toEqual([...manifest.chunks].sort());
    expect(await readdir(scratchDirectory)).toEqual([]);
    const read = await readAll(readContent({ store, manifest, dek: dekOf(manifest) }));
    expect(read.equals(plaintext)).toBe(true);
  });

  it.each([
    ['a store of files', tempStore],
    ['a store without local files', async () => new CountingChunkStore(await tempStore())],
  ])('reads a source once into %s, storing what it read', async (_what, makeStore) => {
    const plaintext = randomBytes(2 * CHUNK_SIZE + 5);
    const file = path.join(await tempDirectory(), 'upload.bin');
    await writeFile(file, plaintext);
    const store = await makeStore();
    let readings = 0;
    const source = {
      open: () => {
        readings++;
        return fileSource(file).open();
      },
    };
    // The dedup lookup runs between the two passes: the file changes right then, too late to matter.
    const findManifest = async () => {
      await writeFile(file, randomBytes(2 * CHUNK_SIZE + 5));
      return undefined;
    };
    const { manifest } = await create(store, source, { findManifest });
    expect(readings).toBe(1);
    expect(manifest.content_hash).toBe(sha256(plaintext));
    const read = await readAll(readContent({ store, manifest, dek: dekOf(manifest) }));
    expect(read.equals(plaintext)).toBe(true);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it.each([
    ['a store of files', tempStore],
    ['a store without local files', async () => new CountingChunkStore(await tempStore())],
  ])(
    'keeps nothing in %s when a file of the first pass is altered before the second',
    async (_what, makeStore) => {
      const store = await makeStore();
      const plaintext = randomBytes(3 * CHUNK_SIZE);
      const alterOne = async () => {
        // The first pass's files: in the store's scratch folder, or in the creation's own inside it.
        let folder = store.scratchDirectory;
        let [first] = await readdir(folder);
        if (store instanceof CountingChunkStore) {
          folder = path.join(folder, first!);
          [first] = await readdir(folder);
        }
        const file = path.join(folder, first!);
        const bytes = await readFile(file);
        bytes[bytes.length - 1]! ^= 1;
        await writeFile(file, bytes);
        return undefined;
      };
      await expect(
        create(store, uploadOf(plaintext), { findManifest: alterOne }),
      ).rejects.toBeInstanceOf(SourceChangedError);
      expect(await storedHashes(store)).toEqual([]);
      expect(await readdir(store.scratchDirectory)).toEqual([]);
    },
  );

  it.each([
    ['empty', 0],
    ['chunk_size', CHUNK_SIZE],
    ['2 chunks + 1', 2 * CHUNK_SIZE + 1],
  ])('creates from a %s file in two passes or, declared, one', async (_what, size) => {
    const plaintext = randomBytes(size);
    const file = path.join(await tempDirectory(), 'upload.bin');
    await writeFile(file, plaintext);
    for (const extra of [{}, { declaredContentHash: sha256(plaintext) }]) {
      const store = await tempStore();
      const { manifest } = await create(store, fileSource(file), extra);
      expect(manifest).toMatchObject({ content_hash: sha256(plaintext), size });
      const read = await readAll(readContent({ store, manifest, dek: dekOf(manifest) }));
      expect(read.equals(plaintext)).toBe(true);
    }
  });

  it('gives every content its own DEK and every chunk its own nonce', async () => {
    const store = await tempStore();
    const plaintext = Buffer.alloc(CHUNK_SIZE * 3, 7);
    const first = await create(store, bufferSource(plaintext));
    const second = await create(store, bufferSource(plaintext));
    expect(dekOf(first.manifest).equals(dekOf(second.manifest))).toBe(false);
    const nonces = new Set<string>();
    for (const hash of [...first.manifest.chunks, ...second.manifest.chunks]) {
      nonces.add((await store.get(hash))!.subarray(0, 12).toString('hex'));
    }
    expect(nonces.size).toBe(6);
  });

  it('writes the envelopes for the instance and the given peers', async () => {
    const store = await tempStore();
    const { manifest } = await create(store, bufferSource(randomBytes(100)), {
      peerKeys: [peer.publicKey],
    });
    expect(Object.keys(manifest.encrypted_aes_keys)).toEqual([
      instance.fingerprint,
      peer.fingerprint,
    ]);
    expect(dekOf(manifest, peer).equals(dekOf(manifest, instance))).toBe(true);
  });

  it('refuses bad metadata before reading the source', async () => {
    const store = await tempStore();
    const { source, opened } = watchedSource();
    await expect(
      create(store, source, {
        metadata: { filename: '../../etc/passwd', mime_type: 'text/plain' },
      }),
    ).rejects.toMatchObject({ issues: [{ path: 'metadata.filename' }] });
    expect(opened()).toBe(false);
  });

  it('refuses a key that cannot take an envelope before reading the source', async () => {
    const store = await tempStore();
    const { source, opened } = watchedSource();
    const { publicKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const key of ['not a key', ecKey]) {
      await expect(create(store, source, { peerKeys: [key] })).rejects.toBeInstanceOf(
        PublicKeyFormatError,
      );
    }
    expect(opened()).toBe(false);
  });

  it.each([
    ['a store of files', tempStore],
    ['a store without local files', async () => new CountingChunkStore(await tempStore())],
  ])('keeps nothing in %s when the upload fails midway', async (_what, makeStore) => {
    const store = await makeStore();
    async function* brokenUpload() {
      yield randomBytes(CHUNK_SIZE + 1000);
      throw new Error('client went away');
    }
    await expect(create(store, brokenUpload())).rejects.toThrow('client went away');
    expect(await storedHashes(store)).toEqual([]);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });
});

describe('byte ranges', () => {
  const size = 3 * CHUNK_SIZE + 12_345;
  let plaintext: Buffer;
  let manifest: Manifest;
  let store: CountingChunkStore;

  beforeAll(async () => {
    plaintext = randomBytes(size);
    store = new CountingChunkStore(await tempStore());
    ({ manifest } = await create(store, bufferSource(plaintext)));
  });

  const ranges: Array<[string, ByteRange, number[]]> = [
    ['within a chunk', { start: CHUNK_SIZE + 10, end: CHUNK_SIZE + 20 }, [1]],
    ['one whole chunk', { start: CHUNK_SIZE, end: 2 * CHUNK_SIZE - 1 }, [1]],
    ['across two chunks', { start: CHUNK_SIZE - 5, end: CHUNK_SIZE + 5 }, [0, 1]],
    ['across four chunks', { start: 100, end: 3 * CHUNK_SIZE + 100 }, [0, 1, 2, 3]],
    ['the first byte', { start: 0, end: 0 }, [0]],
    ['the last byte', { start: size - 1, end: size - 1 }, [3]],
    ['the whole content', { start: 0, end: size - 1 }, [0, 1, 2, 3]],
  ];
  it.each(ranges)('%s, reading only the chunks it needs', async (_what, range, chunks) => {
    store.gets.length = 0;
    const read = await readAll(readContent({ store, manifest, dek: dekOf(manifest), range }));
    expect(read.equals(plaintext.subarray(range.start, range.end + 1))).toBe(true);
    expect(store.gets).toEqual(chunks.map((index) => manifest.chunks[index]));
  });

  it('serves many whole reads at once, more chunks than the workers have shared slots', async () => {
    // A store of files has the workers read blobs into shared memory; readers beyond its slots
    // read blobs on the main thread. Either way every reader gets exactly the content.
    const files = await tempStore();
    const { manifest: stored } = await create(files, bufferSource(plaintext));
    const reads = await Promise.all(
      Array.from({ length: 8 }, () =>
        readAll(readContent({ store: files, manifest: stored, dek: dekOf(stored) })),
      ),
    );
    for (const read of reads) expect(read.equals(plaintext)).toBe(true);
  });

  it('lets a reader stop early (a client that disconnects) without errors left behind', async () => {
    let received = 0;
    for await (const piece of readContent({ store, manifest, dek: dekOf(manifest) })) {
      received += (piece as Buffer).length;
      break;
    }
    expect(received).toBe(CHUNK_SIZE);
    const stream = readContent({ store, manifest, dek: dekOf(manifest) });
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(stream.destroyed).toBe(true);
  });

  it('refuses ranges outside the content before streaming anything', () => {
    const dek = dekOf(manifest);
    for (const range of [
      { start: 10, end: 5 },
      { start: 0, end: size },
      { start: -1, end: 5 },
      { start: 1.5, end: 5 },
    ]) {
      expect(() => readContent({ store, manifest, dek, range })).toThrow(RangeNotSatisfiableError);
    }
  });

  it('has no satisfiable range in empty content', async () => {
    const empty = await tempStore();
    const created = await create(empty, bufferSource(Buffer.alloc(0)));
    expect(() =>
      readContent({
        store: empty,
        manifest: created.manifest,
        dek: dekOf(created.manifest),
        range: { start: 0, end: 0 },
      }),
    ).toThrow(RangeNotSatisfiableError);
  });
});

describe('a declared content hash', () => {
  const fixed = (dek: Buffer) => ({
    dek,
    nonce: (index: number) =>
      createHash('sha256').update(`nonce ${index}`).digest().subarray(0, 12),
  });

  it('seals in one pass exactly what two passes seal, needing no scratch folder', async () => {
    const plaintext = randomBytes(3 * CHUNK_SIZE + 999);
    const fixedKeyMaterial = fixed(randomBytes(32));
    const createdAt = new Date('2026-01-01T00:00:00.000Z');
    const twoPasses = await create(new CountingChunkStore(await tempStore()), uploadOf(plaintext), {
      fixedKeyMaterial,
      createdAt,
    });
    const store = new CountingChunkStore(await tempStore());
    const onePass = await create(store, uploadOf(plaintext), {
      fixedKeyMaterial,
      createdAt,
      declaredContentHash: sha256(plaintext),
      // No scratch folder could be made here: only the one-pass creation can succeed.
      scratchDirectory: path.join(await tempDirectory(), 'missing', 'folder'),
    });
    expect(onePass.manifest.chunks).toEqual(twoPasses.manifest.chunks);
    expect(onePass.manifest.content_hash).toBe(sha256(plaintext));
    expect(onePass.manifest.size).toBe(plaintext.length);
    const read = await readAll(
      readContent({ store, manifest: onePass.manifest, dek: dekOf(onePass.manifest) }),
    );
    expect(read.equals(plaintext)).toBe(true);
  });

  it('keeps nothing when the content does not hash to the declared hash', async () => {
    const store = await tempStore();
    const plaintext = randomBytes(2 * CHUNK_SIZE + 5);
    const declared = sha256(Buffer.from('another file'));
    const failure = create(store, uploadOf(plaintext), { declaredContentHash: declared });
    await expect(failure).rejects.toBeInstanceOf(DeclaredHashMismatchError);
    await expect(failure).rejects.toMatchObject({ declared, actual: sha256(plaintext) });
    expect(await storedHashes(store)).toEqual([]);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('on failure deletes the blobs it wrote, never those it found stored already', async () => {
    const store = await tempStore();
    const plaintext = randomBytes(3 * CHUNK_SIZE);
    const declaredContentHash = sha256(plaintext);
    // Fixed key material seals the same blobs twice, so the second create meets stored ones.
    const fixedKeyMaterial = {
      dek: randomBytes(32),
      nonce: (index: number) => Buffer.alloc(12, index + 1),
    };
    const first = await create(store, uploadOf(plaintext), {
      declaredContentHash,
      fixedKeyMaterial,
    });
    // Same first two chunks, another third: blobs 0 and 1 exist already, the third is new.
    const other = Buffer.concat([plaintext.subarray(0, 2 * CHUNK_SIZE), randomBytes(CHUNK_SIZE)]);
    const failure = create(store, uploadOf(other), { declaredContentHash, fixedKeyMaterial });
    await expect(failure).rejects.toBeInstanceOf(DeclaredHashMismatchError);
    expect(await storedHashes(store)).toEqual([...first.manifest.chunks].sort());
    const read = await readAll(
      readContent({ store, manifest: first.manifest, dek: dekOf(first.manifest) }),
    );
    expect(read.equals(plaintext)).toBe(true);
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('reuses content held already only when the bytes sent prove the declared hash', async () => {
    const store = new CountingChunkStore(await tempStore());
    const plaintext = randomBytes(CHUNK_SIZE + 10);
    const first = await create(store, bufferSource(plaintext));
    const findManifest = async (hash: string) =>
      hash === first.manifest.content_hash ? first.manifest : undefined;
    const putsAfterFirst = store.puts;
    await expect(
      create(store, uploadOf(randomBytes(CHUNK_SIZE + 10)), {
        declaredContentHash: first.manifest.content_hash,
        findManifest,
      }),
    ).rejects.toBeInstanceOf(DeclaredHashMismatchError);
    const again = await create(store, uploadOf(plaintext), {
      declaredContentHash: first.manifest.content_hash,
      findManifest,
    });
    expect(again.reused).toBe(true);
    expect(again.manifest).toBe(first.manifest);
    expect(store.puts).toBe(putsAfterFirst);
  });

  it('refuses a declared hash that is not 64 lowercase hex characters before reading', async () => {
    const { source, opened } = watchedSource();
    await expect(
      create(await tempStore(), source, { declaredContentHash: 'ABC' }),
    ).rejects.toBeInstanceOf(RangeError);
    expect(opened()).toBe(false);
  });
});

describe('dedup', () => {
  it('returns the manifest already held and writes no blob', async () => {
    const store = new CountingChunkStore(await tempStore());
    const held = new Map<string, Manifest>();
    const findManifest = async (hash: string) => held.get(hash);
    const plaintext = randomBytes(2 * CHUNK_SIZE + 1);

    const first = await create(store, uploadOf(plaintext), { findManifest });
    held.set(first.manifest.content_hash, first.manifest);
    const putsAfterFirst = store.puts;
    const before = await Promise.all(
      first.manifest.chunks.map((hash) => stat(store.inner.pathOf(hash))),
    );

    const second = await create(store, uploadOf(plaintext), { findManifest });
    expect(second.reused).toBe(true);
    expect(second.manifest).toBe(first.manifest);
    expect(store.puts).toBe(putsAfterFirst);
    const after = await Promise.all(
      first.manifest.chunks.map((hash) => stat(store.inner.pathOf(hash))),
    );
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
    expect(await storedHashes(store)).toEqual([...first.manifest.chunks].sort());
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('names the keys a reused manifest has no envelope for', async () => {
    const store = await tempStore();
    const plaintext = randomBytes(1000);
    const first = await create(store, bufferSource(plaintext));
    const second = await create(store, bufferSource(plaintext), {
      peerKeys: [peer.publicKey],
      findManifest: async () => first.manifest,
    });
    expect(second.reused).toBe(true);
    expect(second.keysWithoutEnvelope).toEqual([peer.fingerprint]);
  });

  it('without a lookup, stores a second copy and leaves the first untouched', async () => {
    const store = await tempStore();
    const plaintext = randomBytes(CHUNK_SIZE + 10);
    const first = await create(store, bufferSource(plaintext));
    const blobsBefore = await Promise.all(first.manifest.chunks.map((hash) => store.get(hash)));
    const second = await create(store, bufferSource(plaintext));
    expect(second.manifest.chunks.some((hash) => first.manifest.chunks.includes(hash))).toBe(false);
    const blobsAfter = await Promise.all(first.manifest.chunks.map((hash) => store.get(hash)));
    expect(blobsAfter).toEqual(blobsBefore);
    const read = await readAll(
      readContent({ store, manifest: first.manifest, dek: dekOf(first.manifest) }),
    );
    expect(read.equals(plaintext)).toBe(true);
  });
});

describe('re-key and revoke', () => {
  let store: FileChunkStore;
  let manifest: Manifest;
  let plaintext: Buffer;

  beforeAll(async () => {
    store = await tempStore();
    plaintext = randomBytes(CHUNK_SIZE + 99);
    ({ manifest } = await create(store, bufferSource(plaintext)));
  });

  it('adds an envelope the new key opens, keeping the old one as it was', async () => {
    expect(() => dekOf(manifest, peer)).toThrow(EnvelopeNotFoundError);
    const rekeyed = rekeyManifest(manifest, privateKeyFromDer(instance.privateKeyDer), [
      peer.publicKey,
    ]);
    expect(rekeyed.chunks).toEqual(manifest.chunks);
    expect(rekeyed.encrypted_aes_keys[instance.fingerprint]).toBe(
      manifest.encrypted_aes_keys[instance.fingerprint],
    );
    for (const key of [peer, instance]) {
      const read = await readAll(
        readContent({ store, manifest: rekeyed, dek: dekOf(rekeyed, key) }),
      );
      expect(read.equals(plaintext)).toBe(true);
    }
    // Re-keying for a key that already has an envelope changes nothing.
    const again = rekeyManifest(rekeyed, privateKeyFromDer(peer.privateKeyDer), [
      instance.publicKey,
    ]);
    expect(again).toEqual(rekeyed);
  });

  it('revokes one envelope on request, never the last', () => {
    const rekeyed = rekeyManifest(manifest, privateKeyFromDer(instance.privateKeyDer), [
      peer.publicKey,
    ]);
    const revoked = revokeEnvelope(rekeyed, peer.fingerprint);
    expect(Object.keys(revoked.encrypted_aes_keys)).toEqual([instance.fingerprint]);
    expect(() => dekOf(revoked, peer)).toThrow(EnvelopeNotFoundError);
    expect(dekOf(revoked, instance).equals(dekOf(manifest))).toBe(true);
    expect(() => revokeEnvelope(revoked, instance.fingerprint)).toThrow(LastEnvelopeError);
    expect(() => revokeEnvelope(revoked, peer.fingerprint)).toThrow(EnvelopeNotFoundError);
  });

  it('refuses a manifest whose size does not match its chunks', () => {
    expect(() =>
      readContent({ store, manifest: { ...manifest, size: 10 }, dek: dekOf(manifest) }),
    ).toThrow(ManifestFormatError);
  });
});
