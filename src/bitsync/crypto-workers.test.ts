// The crypto worker pool: results match node:crypto on the main thread, failures come back as
// answers, and handing bytes over never takes memory the caller still owns.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashInWorker, openInWorker, sealInWorker } from './crypto-workers.js';

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
    const opened = await openInWorker(key, aad, copy(), hash);
    expect('plaintext' in opened && opened.plaintext.equals(plaintext)).toBe(true);
    expect(await openInWorker(key, aad, copy(), sha256(Buffer.from('other')))).toEqual({
      failure: 'hash_mismatch',
    });
    expect(await openInWorker(key, Buffer.from('other aad'), copy(), undefined)).toEqual({
      failure: 'authentication_failed',
    });
    const flipped = copy();
    flipped[20]! ^= 1;
    expect(await openInWorker(key, aad, flipped, undefined)).toEqual({
      failure: 'authentication_failed',
    });
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
