// Envelopes: a content's DEK wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) for each key
// allowed to read it, filed under the key's fingerprint. Re-key adds envelopes; only revoke removes one.
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto';
import { fingerprintOf, PublicKeyFormatError } from '../crypto/keys.js';
import { BitSyncIntegrityError, EnvelopeNotFoundError, LastEnvelopeError } from './errors.js';
import { DEK_BYTES } from './format.js';
import type { Manifest } from './manifest.js';

/** A public key as SPKI PEM or a KeyObject. */
export type RecipientKey = string | KeyObject;
/** A private key as PKCS#8 PEM or a KeyObject. */
export type OpeningKey = string | KeyObject;

export interface Envelope {
  fingerprint: string;
  /** base64 RSA-OAEP-SHA256(DEK). */
  wrappedDek: string;
}

/** The recipient as an RSA public KeyObject; PublicKeyFormatError for anything else. */
export function recipientKeyObject(recipient: RecipientKey): KeyObject {
  let key: KeyObject;
  try {
    key = typeof recipient === 'string' ? createPublicKey(recipient) : recipient;
  } catch {
    throw new PublicKeyFormatError('not a PEM public key');
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') {
    throw new PublicKeyFormatError('an envelope needs an RSA public key');
  }
  return key;
}

export function sealEnvelope(dek: Uint8Array, recipient: RecipientKey): Envelope {
  if (dek.length !== DEK_BYTES) throw new RangeError(`a DEK is ${DEK_BYTES} bytes`);
  const key = recipientKeyObject(recipient);
  const wrapped = publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    dek,
  );
  return { fingerprint: fingerprintOf(key), wrappedDek: wrapped.toString('base64') };
}

function privateKeyObject(key: OpeningKey): KeyObject {
  return typeof key === 'string' ? createPrivateKey(key) : key;
}

/** The fingerprint an opening key's envelope is filed under. */
export function fingerprintOfPrivateKey(key: OpeningKey): string {
  return fingerprintOf(createPublicKey(privateKeyObject(key)));
}

/**
 * Unwraps the DEK from the envelope filed under this private key's fingerprint. Throws
 * EnvelopeNotFoundError when there is none, BitSyncIntegrityError when it does not open to a DEK.
 * A DEK from a swapped-in envelope of another content is caught later, by the first chunk's GCM tag.
 */
export function openEnvelope(manifest: Manifest, privateKey: OpeningKey): Buffer {
  const key = privateKeyObject(privateKey);
  const fingerprint = fingerprintOf(createPublicKey(key));
  const wrapped = manifest.encrypted_aes_keys[fingerprint];
  if (wrapped === undefined) throw new EnvelopeNotFoundError(manifest.content_hash, fingerprint);
  let dek: Buffer;
  try {
    dek = privateDecrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(wrapped, 'base64'),
    );
  } catch {
    throw new BitSyncIntegrityError('envelope_invalid', manifest.content_hash);
  }
  if (dek.length !== DEK_BYTES) {
    throw new BitSyncIntegrityError('envelope_invalid', manifest.content_hash);
  }
  return dek;
}

/**
 * Adds an envelope for each recipient that lacks one, keeping every existing envelope untouched
 * (a recipient already present keeps its envelope). Returns a new manifest; the chunks are unchanged,
 * so no blob is touched.
 */
export function withEnvelopes(
  manifest: Manifest,
  dek: Uint8Array,
  recipients: readonly RecipientKey[],
): Manifest {
  const envelopes = { ...manifest.encrypted_aes_keys };
  for (const recipient of recipients) {
    const key = recipientKeyObject(recipient);
    if (envelopes[fingerprintOf(key)] !== undefined) continue;
    const envelope = sealEnvelope(dek, key);
    envelopes[envelope.fingerprint] = envelope.wrappedDek;
  }
  return { ...manifest, encrypted_aes_keys: envelopes };
}

/** Re-key: opens the DEK with a key that can read the content and adds envelopes for new recipients. */
export function rekeyManifest(
  manifest: Manifest,
  privateKey: OpeningKey,
  recipients: readonly RecipientKey[],
): Manifest {
  return withEnvelopes(manifest, openEnvelope(manifest, privateKey), recipients);
}

/**
 * Removes one key's envelope (the operator's decision: a peer no longer trusted). Refuses to remove
 * the last one. A revoked key that kept a copy of the DEK can still read blobs it already has:
 * revocation stops future access through this manifest, it does not re-encrypt.
 */
export function revokeEnvelope(manifest: Manifest, fingerprint: string): Manifest {
  const { [fingerprint]: revoked, ...remaining } = manifest.encrypted_aes_keys;
  if (revoked === undefined) throw new EnvelopeNotFoundError(manifest.content_hash, fingerprint);
  if (Object.keys(remaining).length === 0) throw new LastEnvelopeError(manifest.content_hash);
  return { ...manifest, encrypted_aes_keys: remaining };
}
