// Where a user's private key lives: only ever sealed (AES-256-GCM) under a password-derived key, a
// recovery key or a session key. The additional data binds each sealed copy to its user and purpose,
// so one user's sealed key cannot be swapped into another's row.
import { open, seal } from '../../../crypto/aead.js';

export type KeyPurpose = 'password' | 'recovery' | 'session';

const aad = (userId: string, purpose: KeyPurpose) =>
  Buffer.from(`axon-user-private-key-v1:${purpose}:${userId}`);

export function sealPrivateKey(
  kek: Buffer,
  userId: string,
  purpose: KeyPurpose,
  der: Buffer,
): string {
  return seal(kek, der, aad(userId, purpose)).toString('base64');
}

/** Throws IntegrityError when the key is wrong or the stored copy was altered. */
export function openPrivateKey(
  kek: Buffer,
  userId: string,
  purpose: KeyPurpose,
  sealed: string,
): Buffer {
  return open(kek, Buffer.from(sealed, 'base64'), aad(userId, purpose));
}
