// The synchronous HS256 check that authenticates every request: it accepts the tokens sessions
// mint (with jose) and refuses every other kind — no algorithm, another algorithm, another key, a
// touched payload or signature, an expired or not-yet-valid token, extensions it does not know.
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyHs256 } from './jwt.js';

const key = randomBytes(32);
const now = Math.floor(Date.now() / 1000);

const mint = (claims: Record<string, unknown> = {}, exp = now + 3600, signingKey = key) =>
  new SignJWT({ sid: 'secret', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('user-1')
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(signingKey);

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with any header and payload, HMAC-signed under `key` as an attacker who had it could. */
function handMade(header: unknown, payload: unknown, signingKey: Uint8Array = key): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${createHmac('sha256', signingKey).update(input).digest('base64url')}`;
}

describe('verifyHs256', () => {
  it("accepts a session token as jose mints it, with jose's claims", async () => {
    const check = verifyHs256(await mint(), key, now);
    expect(check).toEqual({
      valid: true,
      payload: { sid: 'secret', sub: 'user-1', iat: now, exp: now + 3600 },
    });
  });

  it('refuses alg none, with or without a signature', async () => {
    const [, payload] = (await mint()).split('.');
    const none = `${segment({ alg: 'none' })}.${payload}`;
    expect(verifyHs256(`${none}.`, key, now)).toEqual({ valid: false, reason: 'malformed' });
    const signed = handMade({ alg: 'none' }, { sid: 'secret', exp: now + 60 });
    expect(verifyHs256(signed, key, now)).toEqual({ valid: false, reason: 'malformed' });
  });

  it('refuses other algorithms even when the HMAC is right', () => {
    for (const alg of ['HS384', 'HS512', 'RS256', 'hs256', undefined]) {
      const token = handMade({ alg }, { sid: 'secret', exp: now + 60 });
      expect(verifyHs256(token, key, now)).toEqual({ valid: false, reason: 'malformed' });
    }
  });

  it('refuses a token signed with another key', async () => {
    const token = await mint({}, now + 3600, randomBytes(32));
    expect(verifyHs256(token, key, now)).toEqual({ valid: false, reason: 'bad-signature' });
  });

  it('refuses a changed payload and a changed, cut or padded signature', async () => {
    const [header, payload, signature] = (await mint()).split('.') as [string, string, string];
    const forged = segment({ sid: 'secret', sub: 'admin', exp: now + 3600 });
    const flip = (s: string, i: number) =>
      s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const token of [
      `${header}.${forged}.${signature}`,
      `${header}.${payload}.${flip(signature, 0)}`,
      `${header}.${payload}.${flip(signature, signature.length - 1)}`,
      `${header}.${payload}.${signature.slice(0, -1)}`,
      `${header}.${payload}.${signature}A`,
      `${header}.${payload}.`,
    ]) {
      expect(verifyHs256(token, key, now)).toEqual({ valid: false, reason: 'bad-signature' });
    }
  });

  it('refuses an expired token, at the second it expires and after', async () => {
    const token = await mint({}, now + 10);
    expect(verifyHs256(token, key, now + 9).valid).toBe(true);
    expect(verifyHs256(token, key, now + 10)).toEqual({ valid: false, reason: 'expired' });
    expect(verifyHs256(token, key, now + 11)).toEqual({ valid: false, reason: 'expired' });
  });

  it('refuses a token without a numeric expiry or with a future nbf', () => {
    const header = { alg: 'HS256' };
    for (const payload of [{ sid: 's' }, { sid: 's', exp: String(now + 60) }, [1, 2]]) {
      expect(verifyHs256(handMade(header, payload), key, now)).toEqual({
        valid: false,
        reason: 'malformed',
      });
    }
    const early = handMade(header, { sid: 's', exp: now + 60, nbf: now + 30 });
    expect(verifyHs256(early, key, now)).toEqual({ valid: false, reason: 'not-yet-valid' });
    expect(verifyHs256(early, key, now + 30).valid).toBe(true);
  });

  it('refuses extensions it does not understand', () => {
    for (const header of [
      { alg: 'HS256', crit: ['exp'] },
      { alg: 'HS256', b64: false, crit: ['b64'] },
      { alg: 'HS256', b64: true },
    ]) {
      const token = handMade(header, { sid: 'secret', exp: now + 60 });
      expect(verifyHs256(token, key, now)).toEqual({ valid: false, reason: 'malformed' });
    }
  });

  it('refuses what is not a compact JWS', async () => {
    const token = await mint();
    for (const bad of [
      '',
      'abc',
      token.split('.').slice(0, 2).join('.'),
      `${token}.extra`,
      `${token.replace('.', '.=')}`,
      `${segment('HS256')}.${segment({ exp: now + 60 })}.x`,
      `not json.${segment({ exp: now + 60 })}.x`,
    ]) {
      expect(verifyHs256(bad, key, now).valid).toBe(false);
    }
  });
});
