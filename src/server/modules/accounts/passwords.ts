// Password-derived keys: one Argon2id run (OWASP parameters) split by HKDF into a verifier that
// is stored and a key-encryption key that never is, so the stored verifier cannot unwrap the key.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import { deriveKey } from '../../../crypto/kdf.js';

export interface PasswordKdf {
  m: number;
  t: number;
  p: number;
  salt: string;
}

// @node-rs/argon2's Algorithm is an ambient const enum; 2 is its Argon2id member.
const ARGON2ID = 2 as Algorithm;

export const ARGON2_PARAMS = { m: 19456, t: 2, p: 1 } as const;

export interface PasswordKeys {
  verifier: Buffer;
  /** Wraps the user's private key. */
  kek: Buffer;
}

export function newPasswordKdf(): PasswordKdf {
  return { ...ARGON2_PARAMS, salt: randomBytes(16).toString('base64') };
}

export async function derivePasswordKeys(
  password: string,
  kdf: PasswordKdf,
): Promise<PasswordKeys> {
  const stretched = await hashRaw(password, {
    algorithm: ARGON2ID,
    memoryCost: kdf.m,
    timeCost: kdf.t,
    parallelism: kdf.p,
    outputLen: 32,
    salt: Buffer.from(kdf.salt, 'base64'),
  });
  return {
    verifier: deriveKey(stretched, 'axon-password-verifier-v1'),
    kek: deriveKey(stretched, 'axon-password-kek-v1'),
  };
}

export function verifierMatches(expected: string, actual: Buffer): boolean {
  const stored = Buffer.from(expected, 'base64');
  return stored.length === actual.length && timingSafeEqual(stored, actual);
}

/** Spends the same work as a real check, so an unknown username answers no faster than a known one. */
export async function burnPasswordCheck(password: string): Promise<void> {
  await derivePasswordKeys(password, newPasswordKdf());
}

export function parseKdf(json: string): PasswordKdf {
  return JSON.parse(json) as PasswordKdf;
}
