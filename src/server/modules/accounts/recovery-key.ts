// Recovery keys: 160 random bits shown once as Crockford base32 in groups of four
// (e.g. "7K3M-…"), forgiving of case, spaces and the letters people confuse with digits.
import { randomBytes } from 'node:crypto';
import { deriveKey } from '../../../crypto/kdf.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const KEY_BYTES = 20;

export function newRecoveryKey(): { display: string; bytes: Buffer } {
  const bytes = randomBytes(KEY_BYTES);
  return { display: formatRecoveryKey(bytes), bytes };
}

export function formatRecoveryKey(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{1,4}/g)!.join('-');
}

/** Parses what a person typed; undefined when it cannot be a recovery key. */
export function parseRecoveryKey(input: string): Buffer | undefined {
  const clean = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (clean.length !== (KEY_BYTES * 8) / 5) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function recoveryKek(bytes: Buffer): Buffer {
  return deriveKey(bytes, 'axon-recovery-kek-v1');
}
