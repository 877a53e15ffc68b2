// Signed routes under attack, through inject on GET /api/federation/ping/: each refusal is a
// catalogued envelope, burns no nonce, and comes signed like every answer to a signed request.
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import {
  insertPeer,
  signedHeaders,
  testPeerKey,
  type TestPeerKey,
} from '../../../test-support/federation-keys.js';
import { verifyResponse } from './signing.js';

const PING = '/api/federation/ping/';
const HOST = 'b.example';

describe.each(DIALECTS)('signed routes on %s', (dialect) => {
  let t: TestApp;
  let peer: TestPeerKey;
  let untrusted: TestPeerKey;

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_PUBLIC_URL: `https://${HOST}` });
    peer = testPeerKey();
    untrusted = testPeerKey();
    await insertPeer(t.ctx.database, peer, { base_url: 'https://a.example', trusted: true });
    await insertPeer(t.ctx.database, untrusted, { base_url: 'https://c.example', trusted: false });
  });
  afterAll(() => t.close());

  const ping = (headers: Record<string, string>, url = PING) =>
    t.app.inject({ method: 'GET', url, headers: { host: HOST, ...headers } });

  /** Sends the request and checks it was refused with `code`, signed, and left no nonce behind. */
  async function refused(
    headers: Record<string, string>,
    status: number,
    code: string,
    url = PING,
  ): Promise<void> {
    const before = await countRows(t, 'federation_nonces');
    const res = await ping(headers, url);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await countRows(t, 'federation_nonces')).toBe(before);
    // Answers are signed whenever the request carried a well-formed nonce.
    const nonce = headers['x-nonce'] ?? '';
    if (nonce.length >= 22) {
      expect(
        verifyResponse(
          createPublicKey(t.ctx.identity.pubkey),
          nonce,
          res.statusCode,
          res.rawPayload,
          String(res.headers['x-signature']),
        ),
      ).toBe(true);
    }
  }

  it('answers a trusted peer, with the answer signed over its nonce, and records the nonce', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    const before = await countRows(t, 'federation_nonces');
    const res = await ping({ ...headers, host: 'B.Example' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.fingerprint).toBe(t.ctx.identity.fingerprint);
    const key = createPublicKey(t.ctx.identity.pubkey);
    const signature = String(res.headers['x-signature']);
    expect(verifyResponse(key, headers['x-nonce'], 200, res.rawPayload, signature)).toBe(true);
    expect(verifyResponse(key, headers['x-nonce'], 201, res.rawPayload, signature)).toBe(false);
    expect(await countRows(t, 'federation_nonces')).toBe(before + 1);
  });

  it('refuses a replayed nonce', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    expect((await ping(headers)).statusCode).toBe(200);
    await refused(headers, 409, 'FEDERATION_REPLAY');
  });

  it('refuses a bad signature', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    const other = signedHeaders(untrusted, { method: 'GET', pathAndQuery: PING, host: HOST });
    await refused({ ...headers, 'x-signature': other['x-signature'] }, 401, 'FEDERATION_SIGNATURE');
    await refused({ ...headers, 'x-signature': 'AAAA' }, 401, 'FEDERATION_SIGNATURE');
  });

  it('refuses a changed path or query', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    await refused(headers, 401, 'FEDERATION_SIGNATURE', `${PING}?limit=5`);
    await refused(headers, 401, 'FEDERATION_SIGNATURE', '/api/federation/ping');
    const withQuery = signedHeaders(peer, {
      method: 'GET',
      pathAndQuery: `${PING}?limit=5`,
      host: HOST,
    });
    await refused(withQuery, 401, 'FEDERATION_SIGNATURE', `${PING}?limit=6`);
    expect((await ping(withQuery, `${PING}?limit=5`)).statusCode).toBe(200);
  });

  it('refuses another Host, whether signed for it or not', async () => {
    const signedForOther = signedHeaders(peer, {
      method: 'GET',
      pathAndQuery: PING,
      host: 'evil.example',
    });
    await refused({ ...signedForOther, host: 'evil.example' }, 421, 'FEDERATION_HOST');
    // The sender's sysop reads this in the peer's last error: it says what to change.
    const res = await ping({ ...signedForOther, host: 'evil.example' });
    expect(res.json().error.message).toMatch(
      /^Host "evil\.example" is not one of this instance's public hosts \(b\.example, [^)]+\): its sysop must add every host name and address peers use to reach it to AXON_PUBLIC_HOSTS$/,
    );
    // Signed for another host, sent to ours: the signature covers the Host.
    await refused(signedForOther, 401, 'FEDERATION_SIGNATURE');
  });

  it('refuses a timestamp 301 s off either way, and takes one 299 s off', async () => {
    const at = (offset: number) =>
      signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST }, Date.now() + offset);
    await refused(at(-301_000), 401, 'FEDERATION_CLOCK');
    await refused(at(301_000), 401, 'FEDERATION_CLOCK');
    expect((await ping(at(-299_000))).statusCode).toBe(200);
    expect((await ping(at(299_000))).statusCode).toBe(200);
  });

  it('refuses a key it does not trust, and one it does not know', async () => {
    await refused(
      signedHeaders(untrusted, { method: 'GET', pathAndQuery: PING, host: HOST }),
      403,
      'FEDERATION_UNTRUSTED',
    );
    await refused(
      signedHeaders(testPeerKey(), { method: 'GET', pathAndQuery: PING, host: HOST }),
      403,
      'FEDERATION_UNTRUSTED',
    );
  });

  it('refuses unsigned and malformed requests', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    await refused({}, 401, 'FEDERATION_SIGNATURE');
    for (const name of ['x-pubkey', 'x-timestamp', 'x-nonce', 'x-signature'] as const) {
      const rest: Record<string, string> = { ...headers };
      delete rest[name];
      await refused(rest, 401, 'FEDERATION_SIGNATURE');
    }
    await refused({ ...headers, 'x-pubkey': 'bm90IGEga2V5' }, 401, 'FEDERATION_SIGNATURE');
    await refused({ ...headers, 'x-timestamp': '12e3' }, 401, 'FEDERATION_SIGNATURE');
    await refused({ ...headers, 'x-nonce': 'short' }, 401, 'FEDERATION_SIGNATURE');
  });

  it('checks the signature before the nonce: a refused request leaves its nonce usable', async () => {
    const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host: HOST });
    await refused({ ...headers, 'x-signature': 'AAAA' }, 401, 'FEDERATION_SIGNATURE');
    expect((await ping(headers)).statusCode).toBe(200);
  });
});

describe('the public hosts of a signed route', () => {
  let t: TestApp;
  let peer: TestPeerKey;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { AXON_PUBLIC_HOSTS: 'abcdef.onion, B.example:8443' });
    peer = testPeerKey();
    await insertPeer(t.ctx.database, peer, { base_url: 'http://a.example', trusted: true });
  });
  afterAll(() => t.close());

  it('are AXON_PUBLIC_HOSTS when set, compared without case', async () => {
    for (const [host, status] of [
      ['abcdef.onion', 200],
      ['b.example:8443', 200],
      ['b.example', 421],
      ['127.0.0.1:8000', 421],
    ] as const) {
      const headers = signedHeaders(peer, { method: 'GET', pathAndQuery: PING, host });
      const res = await t.app.inject({ method: 'GET', url: PING, headers: { ...headers, host } });
      expect(res.statusCode, host).toBe(status);
    }
  });
});
