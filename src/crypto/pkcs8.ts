// Reads an RSA private key in PKCS#8 DER as its JWK numbers. Node's DER import goes through
// OpenSSL 3's generic decoders, which cost ~1.7 ms per RSA-3072 key here against ~0.15 ms for the
// same key given as a JWK; every signed post opens its author's key, so that difference is on the
// path of every post. Anything that is not a plain PKCS#8 rsaEncryption key answers undefined.
import type { JsonWebKey } from 'node:crypto';

interface Element {
  tag: number;
  /** Where the contents start and end. */
  start: number;
  end: number;
}

/** One DER element at `offset` (definite lengths only, as DER requires); undefined if malformed. */
function element(der: Uint8Array, offset: number, limit: number): Element | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length >= 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 3 || start + bytes > limit) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  const end = start + length;
  return end > limit ? undefined : { tag, start, end };
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, as DER always writes it.
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const RSA_FIELDS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** The JWK of a PKCS#8 RSA private key (two primes), or undefined for anything else. */
export function rsaJwkFromPkcs8(der: Uint8Array): JsonWebKey | undefined {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const info = element(bytes, 0, bytes.length);
  if (info?.tag !== SEQUENCE || info.end !== bytes.length) return undefined;
  const version = element(bytes, info.start, info.end);
  if (version?.tag !== INTEGER || version.end - version.start !== 1 || bytes[version.start] !== 0)
    return undefined;
  const algorithm = element(bytes, version.end, info.end);
  if (algorithm === undefined) return undefined;
  const algorithmStart = version.end;
  if (!bytes.subarray(algorithmStart, algorithm.end).equals(RSA_ALGORITHM)) return undefined;
  const octets = element(bytes, algorithm.end, info.end);
  if (octets?.tag !== OCTET_STRING) return undefined;
  const key = element(bytes, octets.start, octets.end);
  if (key?.tag !== SEQUENCE || key.end !== octets.end) return undefined;
  const keyVersion = element(bytes, key.start, key.end);
  // Version 0: two primes. (Version 1 carries more primes, which a JWK here would drop.)
  if (keyVersion?.tag !== INTEGER || keyVersion.end - keyVersion.start !== 1) return undefined;
  if (bytes[keyVersion.start] !== 0) return undefined;
  const jwk: JsonWebKey = { kty: 'RSA' };
  let at = keyVersion.end;
  for (const field of RSA_FIELDS) {
    const integer = element(bytes, at, key.end);
    if (integer?.tag !== INTEGER || integer.end === integer.start) return undefined;
    // Negative numbers are not RSA parameters; the sign byte of positive ones is not part of them.
    if ((bytes[integer.start]! & 0x80) !== 0) return undefined;
    let start = integer.start;
    while (start < integer.end - 1 && bytes[start] === 0) start++;
    jwk[field] = bytes.subarray(start, integer.end).toString('base64url');
    at = integer.end;
  }
  return at === key.end ? jwk : undefined;
}
