// Unit tests of key wrapping: password-derived keys, recovery keys and the sealed private key.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../crypto/aead.js';
import { openPrivateKey, sealPrivateKey } from './key-vault.js';
import { derivePasswordKeys, newPasswordKdf, verifierMatches } from './passwords.js';
import {
  formatRecoveryKey,
  newRecoveryKey,
  parseRecoveryKey,
  recoveryKek,
} from './recovery-key.js';

const der = randomBytes(1200);

describe('password-derived keys', () => {
  it('derive the same verifier and key from the same password and salt, and different ones otherwise', async () => {
    const kdf = newPasswordKdf();
    expect(kdf).toMatchObject({ m: 19456, t: 2, p: 1 });
    const a = await derivePasswordKeys('correct horse', kdf);
    const b = await derivePasswordKeys('correct horse', kdf);
    const wrong = await derivePasswordKeys('correct horsf', kdf);
    const otherSalt = await derivePasswordKeys('correct horse', newPasswordKdf());
    expect(a.kek).toEqual(b.kek);
    expect(verifierMatches(a.verifier.toString('base64'), b.verifier)).toBe(true);
    expect(verifierMatches(a.verifier.toString('base64'), wrong.verifier)).toBe(false);
    expect(otherSalt.kek).not.toEqual(a.kek);
    // The stored verifier is not the key that unwraps the private key.
    expect(a.verifier).not.toEqual(a.kek);
  });

  it('wrap the private key so that only the right password opens it', async () => {
    const kdf = newPasswordKdf();
    const { kek } = await derivePasswordKeys('pw one two three', kdf);
    const sealed = sealPrivateKey(kek, 'user-1', 'password', der);
    expect(Buffer.from(sealed, 'base64').includes(der.subarray(0, 32))).toBe(false);
    expect(openPrivateKey(kek, 'user-1', 'password', sealed)).toEqual(der);
    const wrong = await derivePasswordKeys('pw one two four', kdf);
    expect(() => openPrivateKey(wrong.kek, 'user-1', 'password', sealed)).toThrow(IntegrityError);
  });
});

describe('sealed private keys are bound to their user and purpose', () => {
  const kek = randomBytes(32);
  const sealed = sealPrivateKey(kek, 'user-1', 'password', der);

  it('refuse to open as another user or another purpose', () => {
    expect(() => openPrivateKey(kek, 'user-2', 'password', sealed)).toThrow(IntegrityError);
    expect(() => openPrivateKey(kek, 'user-1', 'session', sealed)).toThrow(IntegrityError);
  });
});

describe('recovery keys', () => {
  it('format as eight groups of four Crockford base32 characters and parse back', () => {
    const { display, bytes } = newRecoveryKey();
    expect(display).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(parseRecoveryKey(display)).toEqual(bytes);
  });

  it('forgive case, spaces and confusable letters', () => {
    const bytes = Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex');
    const display = formatRecoveryKey(bytes);
    const typed = display.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(parseRecoveryKey(typed)).toEqual(bytes);
  });

  it('reject text of the wrong length or alphabet', () => {
    expect(parseRecoveryKey('ABCD')).toBeUndefined();
    expect(parseRecoveryKey('U'.repeat(32))).toBeUndefined();
  });

  it('unwrap the private key, and a different recovery key does not', () => {
    const { bytes } = newRecoveryKey();
    const sealed = sealPrivateKey(recoveryKek(bytes), 'u', 'recovery', der);
    expect(openPrivateKey(recoveryKek(bytes), 'u', 'recovery', sealed)).toEqual(der);
    expect(() =>
      openPrivateKey(recoveryKek(newRecoveryKey().bytes), 'u', 'recovery', sealed),
    ).toThrow(IntegrityError);
  });
});
