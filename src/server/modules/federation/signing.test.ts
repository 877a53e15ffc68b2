// DESIGN §7 signatures: the published test vector byte for byte, request signing (RSA-PSS, salt
// 32, a fresh nonce, the empty body hashed as the empty string, malformed signatures refused) and
// response signatures covering the request nonce, status and body.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-support/axon-process.js';
import {
  requestSigningString,
  sha256Hex,
  signRequest,
  signResponse,
  signText,
  verifyResponse,
  verifyText,
} from './signing.js';

const vector = JSON.parse(
  readFileSync(`${REPO_ROOT}/docs/federation-test-vector.json`, 'utf8'),
) as Record<string, string>;
const vectorKey = createPublicKey({
  key: Buffer.from(vector.pubkey!, 'base64'),
  format: 'der',
  type: 'spki',
});
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubkeyDer = publicKey.export({ type: 'spki', format: 'der' });

describe('the published test vector (docs/federation-test-vector.json)', () => {
  it('builds the signing string byte for byte, with a lowercased Host', () => {
    const text = requestSigningString({
      method: vector.method!,
      pathAndQuery: vector.path_and_query!,
      host: vector.host!,
      timestamp: vector.timestamp!,
      nonce: vector.nonce!,
      bodyDigest: sha256Hex(vector.body!),
    });
    expect(sha256Hex(vector.body!)).toBe(vector.body_sha256);
    expect(text).toBe(vector.signing_string);
    expect(sha256Hex(text)).toBe(vector.signing_string_sha256);
    expect(text.split('\n')).toHaveLength(7);
  });

  it('its signature verifies with its key, and fails for any other string', () => {
    expect(verifyText(vectorKey, vector.signing_string!, vector.signature!)).toBe(true);
    expect(verifyText(vectorKey, `${vector.signing_string!} `, vector.signature!)).toBe(false);
    expect(verifyText(publicKey, vector.signing_string!, vector.signature!)).toBe(false);
  });
});

describe('request signatures', () => {
  const request = {
    method: 'post',
    pathAndQuery: '/api/federation/inbox/',
    host: 'B.example',
    body: Buffer.from('{"objects":[]}'),
  };

  it('signs with RSA-PSS salt 32 over the §7 string; the headers carry the base64 DER key', () => {
    const headers = signRequest(
      { privateKey, pubkeyDer },
      request,
      1_765_000_000_500,
      'n0nce-n0nce-n0nce-n0nce',
    );
    expect(headers['x-pubkey']).toBe(pubkeyDer.toString('base64'));
    expect(headers['x-timestamp']).toBe('1765000000');
    const text = [
      'axon-request-v1',
      'POST',
      '/api/federation/inbox/',
      'b.example',
      '1765000000',
      'n0nce-n0nce-n0nce-n0nce',
      sha256Hex('{"objects":[]}'),
    ].join('\n');
    expect(verifyText(publicKey, text, headers['x-signature'])).toBe(true);
  });

  it('a fresh nonce each time: at least 16 random bytes in base64url', () => {
    const a = signRequest({ privateKey, pubkeyDer }, request);
    const b = signRequest({ privateKey, pubkeyDer }, request);
    expect(a['x-nonce']).not.toBe(b['x-nonce']);
    expect(Buffer.from(a['x-nonce'], 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(a['x-nonce']).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('the empty body is hashed as the empty string', () => {
    expect(sha256Hex(Buffer.alloc(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('refuses a signature that is not base64 or is truncated', () => {
    const text = 'axon-request-v1';
    const good = signText(privateKey, text);
    expect(verifyText(publicKey, text, good)).toBe(true);
    expect(verifyText(publicKey, text, good.slice(4))).toBe(false);
    expect(verifyText(publicKey, text, '!!!')).toBe(false);
    expect(verifyText(publicKey, text, '')).toBe(false);
  });
});

describe('response signatures', () => {
  it('cover the request nonce, the status and the body', () => {
    const body = Buffer.from('{"success":true}');
    const signature = signResponse(privateKey, 'abc', 200, body);
    expect(verifyText(publicKey, `axon-response-v1\nabc\n200\n${sha256Hex(body)}`, signature)).toBe(
      true,
    );
    expect(verifyResponse(publicKey, 'abc', 200, body, signature)).toBe(true);
    expect(verifyResponse(publicKey, 'abd', 200, body, signature)).toBe(false);
    expect(verifyResponse(publicKey, 'abc', 201, body, signature)).toBe(false);
    expect(verifyResponse(publicKey, 'abc', 200, Buffer.from('{"success":fals}'), signature)).toBe(
      false,
    );
  });
});
