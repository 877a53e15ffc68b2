// Unit tests of the crypto primitives: sealing, fingerprints, public key parsing.
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError, open, seal } from './aead.js';
import { deriveKey } from './kdf.js';
import { fingerprintOf, generateRsaKeyPair, parsePublicKey, PublicKeyFormatError } from './keys.js';

describe('seal / open', () => {
  const key = randomBytes(32);
  const aad = Buffer.from('context');

  it('round-trips and lays out nonce ‖ ciphertext ‖ tag', () => {
    const plaintext = Buffer.from('attack at dawn');
    const sealed = seal(key, plaintext, aad);
    expect(sealed.length).toBe(12 + plaintext.length + 16);
    expect(open(key, sealed, aad)).toEqual(plaintext);
  });

  it('uses a fresh nonce every time', () => {
    expect(seal(key, Buffer.from('x'))).not.toEqual(seal(key, Buffer.from('x')));
  });

  it('refuses a wrong key, wrong additional data, a flipped bit and a truncated buffer', () => {
    const sealed = seal(key, Buffer.from('secret'), aad);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(IntegrityError);
    expect(() => open(key, sealed, Buffer.from('other'))).toThrow(IntegrityError);
    for (const index of [0, 13, sealed.length - 1]) {
      const flipped = Buffer.from(sealed);
      flipped[index]! ^= 1;
      expect(() => open(key, flipped, aad)).toThrow(IntegrityError);
    }
    expect(() => open(key, sealed.subarray(0, 20), aad)).toThrow(IntegrityError);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => seal(randomBytes(16), Buffer.from('x'))).toThrow(RangeError);
  });
});

describe('deriveKey', () => {
  it('gives independent 32-byte keys per label', () => {
    const secret = randomBytes(32);
    const a = deriveKey(secret, 'a');
    expect(a).toHaveLength(32);
    expect(a).toEqual(deriveKey(secret, 'a'));
    expect(a).not.toEqual(deriveKey(secret, 'b'));
  });
});

describe('RSA keys', () => {
  it('generates RSA-3072 pairs whose fingerprint is the SHA-256 of the DER SPKI', async () => {
    const pair = await generateRsaKeyPair();
    const key = createPublicKey(pair.publicKey);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const der = key.export({ type: 'spki', format: 'der' });
    expect(pair.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
    expect(fingerprintOf(pair.publicKey)).toBe(pair.fingerprint);

    expect(parsePublicKey(pair.publicKey).fingerprint).toBe(pair.fingerprint);
    expect(parsePublicKey(der.toString('base64')).fingerprint).toBe(pair.fingerprint);
  });

  it('refuses text that is not an RSA public key', () => {
    expect(() => parsePublicKey('hello')).toThrow(PublicKeyFormatError);
    expect(() =>
      parsePublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'),
    ).toThrow(PublicKeyFormatError);
  });
});
