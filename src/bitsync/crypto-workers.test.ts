// The crypto worker pool: results match node:crypto on the main thread, failures come back as
// answers, and handing bytes over never takes memory the caller still owns.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encryptToFileInWorker,
  finishFileInWorker,
  hashInWorker,
  openFileInWorker,
  openInWorker,
  sealInWorker,
  sealToFileInWorker,
  SHARED_SLOTS,
} from './crypto-workers.js';
import { MAX_BLOB_BYTES } from './format.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'axon-crypto-workers-test-'));
  directories.push(directory);
  return directory;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('crypto workers', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from('axon-bitsync-v1:test:0');

  it('seal gives nonce ‖ ciphertext ‖ tag and its hash, exactly as node:crypto', async () => {
    const plaintext = randomBytes(100_000);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    const expected = Buffer.concat([
      nonce,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const { parts, hash } = await sealInWorker(key, nonce, aad, Buffer.from(plaintext), true);
    expect(Buffer.concat(parts).equals(expected)).toBe(true);
    expect(hash).toBe(sha256(expected));
  });

  it('opens what it sealed, and answers hash and tag failures', async () => {
    const plaintext = randomBytes(5000);
    const { parts, hash } = await sealInWorker(key, nonce, aad, Buffer.from(plaintext), true);
    const copy = () => Buffer.concat(parts);
    const opened = await openInWorker(key, aad, { bytes: copy() }, { expectedHash: hash });
    expect('plaintext' in opened && opened.plaintext.equals(plaintext)).toBe(true);
    expect(
      await openInWorker(
        key,
        aad,
        { bytes: copy() },
        { expectedHash: sha256(Buffer.from('other')) },
      ),
    ).toEqual({
      failure: 'hash_mismatch',
    });
    expect(await openInWorker(key, Buffer.from('other aad'), { bytes: copy() })).toEqual({
      failure: 'authentication_failed',
    });
    const flipped = copy();
    flipped[20]! ^= 1;
    expect(await openInWorker(key, aad, { bytes: flipped })).toEqual({
      failure: 'authentication_failed',
    });
  });

  const sealedByNodeCrypto = (plaintext: Buffer, additionalData: Uint8Array = aad) => {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(additionalData);
    return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  };

  it('reads and opens a blob file in shared memory, in the order of checks every reader follows', async () => {
    const directory = await tempDirectory();
    const plaintext = randomBytes(524288);
    const blob = sealedByNodeCrypto(plaintext);
    const file = path.join(directory, 'blob');
    await writeFile(file, blob);
    const checks = { expectedHash: sha256(blob), expectedLength: blob.length };
    const opened = await openFileInWorker(key, aad, file, checks);
    expect(
      opened !== undefined && 'plaintext' in opened && opened.plaintext.equals(plaintext),
    ).toBe(true);
    // The file is left as it was: the plaintext was made in memory, not in the file.
    expect((await readFile(file)).equals(blob)).toBe(true);

    expect(await openFileInWorker(key, aad, path.join(directory, 'none'), checks)).toEqual({
      failure: 'missing',
    });
    expect(await openFileInWorker(key, Buffer.from('other aad'), file, checks)).toEqual({
      failure: 'authentication_failed',
    });
    expect(
      await openFileInWorker(key, aad, file, { ...checks, expectedLength: blob.length - 1 }),
    ).toEqual({ failure: 'wrong_length' });
    // A file longer than any blob is read one byte past the largest, enough to fail its hash.
    const long = path.join(directory, 'long');
    await writeFile(long, Buffer.concat([blob, Buffer.alloc(MAX_BLOB_BYTES)]));
    expect(await openFileInWorker(key, aad, long, checks)).toEqual({ failure: 'hash_mismatch' });
    const flipped = Buffer.from(blob);
    flipped[30]! ^= 1;
    await writeFile(file, flipped);
    expect(await openFileInWorker(key, aad, file, checks)).toEqual({ failure: 'hash_mismatch' });
    expect(await openFileInWorker(key, aad, file, {})).toEqual({
      failure: 'authentication_failed',
    });
  });

  it('opens as many blob files at once as it has shared slots, and says so for the rest', async () => {
    const directory = await tempDirectory();
    const plaintexts = Array.from({ length: SHARED_SLOTS + 4 }, () => randomBytes(70_000));
    const files = await Promise.all(
      plaintexts.map(async (plaintext, index) => {
        const file = path.join(directory, String(index));
        await writeFile(file, sealedByNodeCrypto(plaintext));
        return file;
      }),
    );
    const opened = await Promise.all(files.map((file) => openFileInWorker(key, aad, file)));
    // Asked all at once, the slots run out: the caller is told to read those blobs itself.
    expect(opened.filter((answer) => answer === undefined)).toHaveLength(4);
    opened.forEach((answer, index) => {
      if (answer !== undefined) {
        expect('plaintext' in answer && answer.plaintext.equals(plaintexts[index]!)).toBe(true);
      }
    });
    // Every slot was given back: asked at once again, as many open; asked one at a time, all do.
    const again = await Promise.all(files.map((file) => openFileInWorker(key, aad, file)));
    expect(again.filter((answer) => answer === undefined)).toHaveLength(4);
    const oneByOne: unknown[] = [];
    for (const file of files) oneByOne.push(await openFileInWorker(key, aad, file));
    expect(oneByOne.every((answer) => answer !== undefined)).toBe(true);
  });

  it('seals in two passes, ciphertext first and tag later, exactly what node:crypto seals in one', async () => {
    const directory = await tempDirectory();
    const guard = { macKey: randomBytes(32), macNonce: randomBytes(12) };
    // Lengths around GCM's 16-byte blocks and the cipher pieces, up to a whole chunk.
    for (const length of [1, 15, 16, 17, 16_384, 16_385, 100_000, 524_288]) {
      const plaintext = randomBytes(length);
      const additionalData = Buffer.from(`axon-bitsync-v1:${sha256(plaintext)}:${length % 7}`);
      const expected = sealedByNodeCrypto(plaintext, additionalData);
      const file = path.join(directory, `blob-${length}`);
      const first = await encryptToFileInWorker(key, nonce, Buffer.from(plaintext), file, guard);
      // The buffer handed over comes back (holding the ciphertext), to be filled again.
      expect(first.plaintext.length).toBe(length);
      // Between the passes the file holds only nonce ‖ ciphertext: no tag, no plaintext.
      expect((await readFile(file)).equals(expected.subarray(0, expected.length - 16))).toBe(true);
      const written = { length: 12 + length, mac: first.mac };
      const second = await finishFileInWorker(key, additionalData, file, written, guard);
      expect(second).toEqual({ hash: sha256(expected) });
      expect((await readFile(file)).equals(expected)).toBe(true);
    }
  });

  it('finishes a two-pass seal only over the very bytes the first pass wrote', async () => {
    const directory = await tempDirectory();
    const guard = { macKey: randomBytes(32), macNonce: randomBytes(12) };
    const plaintext = randomBytes(40_000);
    const file = path.join(directory, 'blob');
    const aadOfTest = Buffer.from('axon-bitsync-v1:test:0');
    const sealFirst = async () => {
      await rm(file, { force: true });
      return (await encryptToFileInWorker(key, nonce, Buffer.from(plaintext), file, guard)).mac;
    };
    const finish = (mac: Uint8Array, length = 12 + plaintext.length, otherGuard = guard) =>
      finishFileInWorker(key, aadOfTest, file, { length, mac }, otherGuard);

    let mac = await sealFirst();
    const bytes = await readFile(file);
    bytes[100]! ^= 1;
    await writeFile(file, bytes);
    expect(await finish(mac)).toEqual({ failure: 'changed' });

    mac = await sealFirst();
    await writeFile(file, Buffer.concat([await readFile(file), Buffer.from([0])]));
    expect(await finish(mac)).toEqual({ failure: 'changed' });

    mac = await sealFirst();
    expect(await finish(mac, 12 + plaintext.length - 1)).toEqual({ failure: 'changed' });
    const otherKey = { macKey: randomBytes(32), macNonce: guard.macNonce };
    expect(await finish(mac, undefined, otherKey)).toEqual({ failure: 'changed' });
    // Refused, and left as the first pass wrote it: nothing was appended.
    expect((await readFile(file)).length).toBe(12 + plaintext.length);
    expect(await finish(mac)).toHaveProperty('hash');
  });

  it('seals into a new file exactly what node:crypto seals, and gives the buffer back', async () => {
    const directory = await tempDirectory();
    const file = path.join(directory, 'blob.partial');
    // Not a multiple of the worker's 16 KiB pieces, and larger than one.
    const plaintext = randomBytes(100_003);
    const handedOver = Buffer.from(plaintext);
    const { hash, plaintext: back } = await sealToFileInWorker(
      key,
      nonce,
      aad,
      handedOver,
      true,
      { file },
      true,
    );
    const expected = sealedByNodeCrypto(plaintext);
    expect((await readFile(file)).equals(expected)).toBe(true);
    expect(hash).toBe(sha256(expected));
    expect(back?.equals(plaintext)).toBe(true);
    expect(handedOver.buffer.byteLength).toBe(0); // it travelled, it was not copied
  });

  it('never writes over an existing file, and leaves it as it was', async () => {
    const directory = await tempDirectory();
    const file = path.join(directory, 'taken');
    await writeFile(file, 'somebody else');
    const sealing = sealToFileInWorker(key, nonce, aad, randomBytes(10), true, { file }, false);
    await expect(sealing).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('somebody else');
  });

  it('passes a file error back with its errno code', async () => {
    const directory = await tempDirectory();
    const file = path.join(directory, 'gone', 'blob.partial');
    const sealing = sealToFileInWorker(key, nonce, aad, randomBytes(10), true, { file }, false);
    await expect(sealing).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(directory)).toEqual([]);
  });

  it('copies a view into a larger buffer rather than taking the whole buffer', async () => {
    const larger = randomBytes(64 * 1024);
    const before = Buffer.from(larger);
    const view = larger.subarray(1000, 2000);
    expect(await hashInWorker(view)).toBe(sha256(before.subarray(1000, 2000)));
    expect(larger.length).toBe(64 * 1024);
    expect(larger.equals(before)).toBe(true);
  });

  it('takes over a buffer it owns whole, without copying', async () => {
    const owned = Buffer.allocUnsafeSlow(64 * 1024).fill(7);
    const hash = sha256(owned);
    expect(await hashInWorker(owned)).toBe(hash);
    expect(owned.buffer.byteLength).toBe(0); // transferred: the caller must not use it afterwards
  });

  it('serves many jobs at once, each its own answer', async () => {
    const inputs = Array.from({ length: 32 }, () => randomBytes(20_000));
    const hashes = await Promise.all(inputs.map((input) => hashInWorker(Buffer.from(input))));
    expect(hashes).toEqual(inputs.map(sha256));
  });
});
