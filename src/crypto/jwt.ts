// HS256 JSON Web Tokens checked synchronously with node:crypto: every authenticated request checks
// one, and WebCrypto's asynchronous path (a thread-pool round trip per token) cost more than the
// HMAC itself. Only what our own session tokens use is accepted; anything else is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type JwtPayload = Record<string, unknown> & { exp: number };

export type JwtCheck =
  | { valid: true; payload: JwtPayload }
  | { valid: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'not-yet-valid' };

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const SHA256_BYTES = 32;

/** Decodes one base64url JSON segment to a plain object; undefined for anything else. */
function jsonSegment(segment: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks a compact JWS signed with HMAC-SHA-256 under `key`: the header must name alg HS256 and
 * no extensions (`crit`, unencoded payloads), the signature must match (compared in constant
 * time), and the payload must carry a numeric `exp` that is still ahead of `nowSeconds` (and an
 * `nbf`, if any, already reached). The signature is checked before the payload is even decoded.
 */
export function verifyHs256(
  token: string,
  key: Uint8Array,
  nowSeconds = Math.floor(Date.now() / 1000),
): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { valid: false, reason: 'malformed' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = jsonSegment(headerPart);
  if (
    header === undefined ||
    header.alg !== 'HS256' ||
    'crit' in header ||
    'b64' in header ||
    !BASE64URL.test(signaturePart)
  ) {
    return { valid: false, reason: 'malformed' };
  }
  const given = Buffer.from(signaturePart, 'base64url');
  const expected = createHmac('sha256', key).update(`${headerPart}.${payloadPart}`).digest();
  // A signature whose text does not re-encode to itself (stray trailing bits) is not the one made.
  if (
    given.length !== SHA256_BYTES ||
    given.toString('base64url') !== signaturePart ||
    !timingSafeEqual(given, expected)
  ) {
    return { valid: false, reason: 'bad-signature' };
  }
  const payload = jsonSegment(payloadPart);
  if (payload === undefined || !isNumber(payload.exp)) return { valid: false, reason: 'malformed' };
  if ('nbf' in payload && !isNumber(payload.nbf)) return { valid: false, reason: 'malformed' };
  if ('iat' in payload && !isNumber(payload.iat)) return { valid: false, reason: 'malformed' };
  if (payload.exp <= nowSeconds) return { valid: false, reason: 'expired' };
  if (isNumber(payload.nbf) && payload.nbf > nowSeconds)
    return { valid: false, reason: 'not-yet-valid' };
  return { valid: true, payload: payload as JwtPayload };
}
