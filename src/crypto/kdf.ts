// HKDF-SHA-256: splits one strong secret into independent keys, one per purpose (the info label).
import { hkdfSync } from 'node:crypto';

export function deriveKey(
  secret: Uint8Array,
  info: string,
  salt: Uint8Array = Buffer.alloc(0),
): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
}
