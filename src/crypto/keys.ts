// RSA-3072 key pairs and their fingerprints (DESIGN.md §5): a key's id everywhere is the lowercase
// hex SHA-256 of its DER SubjectPublicKeyInfo.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { rsaJwkFromPkcs8 } from './pkcs8.js';

const generateRsa = promisify(generateKeyPair);
export const RSA_BITS = 3072;

export interface KeyPair {
  /** SPKI PEM. */
  publicKey: string;
  /** PKCS#8 DER: the form that gets sealed. */
  privateKeyDer: Buffer;
  fingerprint: string;
}

// Key generation runs in libuv's thread pool. Callers that anyone may trigger (registration) run
// it inside the server's work budget (src/server/work-budget.ts), which bounds how many run and wait.
export async function generateRsaKeyPair(): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: RSA_BITS });
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyDer: privateKey.export({ type: 'pkcs8', format: 'der' }),
    fingerprint: fingerprintOf(publicKey),
  };
}

export function fingerprintOf(key: KeyObject | string): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key;
  const der = object.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Opens a PKCS#8 DER private key; RSA keys take the fast road through their JWK (see pkcs8.ts). */
export function privateKeyFromDer(der: Uint8Array): KeyObject {
  const jwk = rsaJwkFromPkcs8(der);
  if (jwk !== undefined) return createPrivateKey({ key: jwk, format: 'jwk' });
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
}

export class PublicKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublicKeyFormatError';
  }
}

/**
 * Parses an RSA public key given as SPKI PEM or base64 DER (the X-Pubkey form).
 * Returns its PEM and fingerprint; throws PublicKeyFormatError for anything else.
 */
export function parsePublicKey(input: string): { pem: string; fingerprint: string } {
  let key: KeyObject;
  try {
    key = input.includes('-----BEGIN')
      ? createPublicKey(input)
      : createPublicKey({ key: Buffer.from(input, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new PublicKeyFormatError('not a PEM or base64 DER public key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new PublicKeyFormatError('not an RSA public key');
  return {
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(key),
  };
}
