// Reads a pubkey as people give it: PEM, base64 DER, or the 64-hex fingerprint alone.
import { PublicKeyFormatError, parsePublicKey } from '../../../crypto/keys.js';
import { fieldError } from '../../http/errors.js';

export function pubkeyInput(
  input: string,
  field = 'body.pubkey',
): { fingerprint: string; pem: string | null } {
  const trimmed = input.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return { fingerprint: trimmed.toLowerCase(), pem: null };
  try {
    return parsePublicKey(trimmed);
  } catch (error) {
    if (error instanceof PublicKeyFormatError) throw fieldError(field, error.message);
    throw error;
  }
}
