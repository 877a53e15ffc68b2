// Signed server-to-server transport (DESIGN.md §7): the exact strings a request and its response are
// signed over, and RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signing and verification of them.
import { constants, createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export const SIGNATURE_HEADERS = {
  pubkey: 'x-pubkey',
  timestamp: 'x-timestamp',
  nonce: 'x-nonce',
  signature: 'x-signature',
} as const;

/** What a request's signature covers, besides the fixed first line. */
export interface RequestSigningInput {
  method: string;
  /** The path and query exactly as sent, e.g. `/api/federation/sync/?cursor=4&limit=100`. */
  pathAndQuery: string;
  /** The Host header value (lowercased here). */
  host: string;
  /** Unix seconds, as a decimal string. */
  timestamp: string;
  nonce: string;
  /** Lowercase hex SHA-256 of the raw body bytes (of the empty string when there is none). */
  bodyDigest: string;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fresh nonce: 18 random bytes, base64url (24 characters). */
export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

export function requestSigningString(input: RequestSigningInput): string {
  return [
    'axon-request-v1',
    input.method.toUpperCase(),
    input.pathAndQuery,
    input.host.toLowerCase(),
    input.timestamp,
    input.nonce,
    input.bodyDigest,
  ].join('\n');
}

export function responseSigningString(nonce: string, status: number, bodyDigest: string): string {
  return ['axon-response-v1', nonce, String(status), bodyDigest].join('\n');
}

/** Base64 RSA-PSS-SHA256 signature of the UTF-8 text. */
export function signText(privateKey: KeyObject, text: string): string {
  return sign('sha256', Buffer.from(text, 'utf8'), { key: privateKey, ...PSS }).toString('base64');
}

/** True when `signature` (base64) is a valid RSA-PSS-SHA256 signature of the text by the key. */
export function verifyText(publicKey: KeyObject, text: string, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(text, 'utf8'),
      { key: publicKey, ...PSS },
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

export type SignedRequestHeaders = {
  'x-pubkey': string;
  'x-timestamp': string;
  'x-nonce': string;
  'x-signature': string;
};

/** The four headers that sign a request with this instance's key. */
export function signRequest(
  key: { privateKey: KeyObject; pubkeyDer: Buffer },
  request: { method: string; pathAndQuery: string; host: string; body: Uint8Array },
  now: number = Date.now(),
  nonce: string = newNonce(),
): SignedRequestHeaders {
  const timestamp = String(Math.floor(now / 1000));
  const text = requestSigningString({
    method: request.method,
    pathAndQuery: request.pathAndQuery,
    host: request.host,
    timestamp,
    nonce,
    bodyDigest: sha256Hex(request.body),
  });
  return {
    'x-pubkey': key.pubkeyDer.toString('base64'),
    'x-timestamp': timestamp,
    'x-nonce': nonce,
    'x-signature': signText(key.privateKey, text),
  };
}

/** X-Signature of a response to the request that carried `nonce`. */
export function signResponse(
  privateKey: KeyObject,
  nonce: string,
  status: number,
  body: Uint8Array,
): string {
  return signText(privateKey, responseSigningString(nonce, status, sha256Hex(body)));
}

export function verifyResponse(
  publicKey: KeyObject,
  nonce: string,
  status: number,
  body: Uint8Array,
  signature: string,
): boolean {
  return verifyText(publicKey, responseSigningString(nonce, status, sha256Hex(body)), signature);
}
