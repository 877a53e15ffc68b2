// Signed federated objects (DESIGN.md §7): RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) over the
// RFC 8785 canonical JSON of the object without its `signature` field.
import { constants, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { privateKeyFromDer } from './keys.js';

// canonicalize is CommonJS whose types claim an ES default export; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (
  input: unknown,
) => string | undefined;

export type SignedObject = Record<string, unknown> & { signature: string };

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** RFC 8785 canonical JSON of a whole object (signature included): how signed objects are stored. */
export function canonicalJson(object: Record<string, unknown>): string {
  const text = canonicalize(object);
  if (text === undefined) throw new TypeError('object cannot be canonicalised');
  return text;
}

/** The exact bytes a signature covers. */
export function signingBytes(object: Record<string, unknown>): Buffer {
  const { signature: _omitted, ...rest } = object;
  const text = canonicalize(rest);
  if (text === undefined) throw new TypeError('object cannot be canonicalised');
  return Buffer.from(text, 'utf8');
}

export function signObject<T extends Record<string, unknown>>(
  object: T,
  privateKey: KeyObject | Buffer,
): T & SignedObject {
  const key = Buffer.isBuffer(privateKey) ? privateKeyFromDer(privateKey) : privateKey;
  const signature = sign('sha256', signingBytes(object), { key, ...PSS }).toString('base64');
  return { ...object, signature };
}

/** True when `signature` verifies under the PEM public key; false for any malformed input. */
export function verifyObject(object: Record<string, unknown>, publicKeyPem: string): boolean {
  const signature = object.signature;
  if (typeof signature !== 'string') return false;
  try {
    const key = createPublicKey(publicKeyPem);
    return verify(
      'sha256',
      signingBytes(object),
      { key, ...PSS },
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
