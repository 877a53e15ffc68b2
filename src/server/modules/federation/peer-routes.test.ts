// The sysop API of the peer registry through Fastify inject, against a real peer instance on
// loopback that is later replaced, at the same address, by an instance with another key: the
// confirm-then-add flow, validation that changes nothing, the key change held until accepted,
// health in the answers, the /api/health summary and the Prometheus gauges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import {
  freePort,
  startPeerInstance,
  type PeerInstance,
} from '../../../test-support/peer-instance.js';
import { formatFingerprint } from './identity.js';

describe('/api/federation/peers/', () => {
  let t: TestApp;
  let sysop: Account;
  let member: Account;
  let port: number;
  let peer: PeerInstance;
  let replacement: PeerInstance | undefined;

  beforeAll(async () => {
    port = await freePort();
    [t, peer] = await Promise.all([startTestApp('sqlite'), startPeerInstance(port)]);
    [sysop, member] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
    await promote(t, sysop.username, 'sysop');
  });
  afterAll(async () => {
    await Promise.all([t?.close(), peer?.stop(), replacement?.stop()]);
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    token = sysop.token,
  ) =>
    t.app.inject({
      method,
      url,
      headers: bearer(token),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it('is for sysops only', async () => {
    expect((await t.app.inject({ url: '/api/federation/peers/' })).statusCode).toBe(401);
    const refused = await call(
      'POST',
      '/api/federation/peers/',
      { base_url: peer.url },
      member.token,
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', '/api/federation/peers/', undefined, member.token)).statusCode).toBe(
      403,
    );
  });

  it('refuses bad input naming the field, and stores nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ base_url: 'ftp://127.0.0.1/' }, 'body.base_url'],
      [{ base_url: 'http://user:pw@127.0.0.1/' }, 'body.base_url'],
      [{ base_url: 'http://127.0.0.1/?x=1' }, 'body.base_url'],
      [{ base_url: 'not a url' }, 'body.base_url'],
      [{ base_url: peer.url, transport: 'socks5' }, 'body.proxy_url'],
      [
        { base_url: peer.url, transport: 'socks5', proxy_url: 'http://127.0.0.1:9050' },
        'body.proxy_url',
      ],
      [
        { base_url: peer.url, transport: 'socks5', proxy_url: 'socks5h://127.0.0.1' },
        'body.proxy_url',
      ],
      [{ base_url: peer.url, proxy_url: 'socks5h://127.0.0.1:9050' }, 'body.proxy_url'],
      [{ base_url: 'http://exampleexampleexample.onion' }, 'body.transport'],
      [{ base_url: peer.url, transport: 'carrier-pigeon' }, 'body.transport'],
      [{ base_url: peer.url, fingerprint: 'abc' }, 'body.fingerprint'],
      [{ base_url: peer.url, admin: true }, 'body'],
    ];
    for (const [payload, field] of cases) {
      const res = await call('POST', '/api/federation/peers/', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.json().error.details.fields)).toContain(field);
    }
    const badParam = await call('GET', '/api/federation/peers/xyz/');
    expect(badParam.statusCode).toBe(400);
    expect(await countRows(t, 'peers')).toBe(0);
  });

  it('shows the fingerprint to confirm, then adds the peer when it comes back (grouped in fours)', async () => {
    const preview = await call('POST', '/api/federation/peers/', { base_url: peer.url });
    expect(preview.statusCode).toBe(409);
    expect(preview.json()).toMatchObject({
      success: false,
      error: {
        code: 'PEER_CONFIRMATION_REQUIRED',
        details: { fingerprint: peer.fingerprint, nickname: peer.nickname, base_url: peer.url },
      },
    });
    expect(await countRows(t, 'peers')).toBe(0);

    const added = await call('POST', '/api/federation/peers/', {
      base_url: peer.url,
      fingerprint: formatFingerprint(peer.fingerprint).toUpperCase(),
      nickname: 'Beta',
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().data).toMatchObject({
      fingerprint: peer.fingerprint,
      nickname: 'Beta',
      trusted: true,
      trusted_for_moderation: false,
      transport: 'direct',
      health: { state: 'healthy', queue_length: 0, chunk_fetches_pending: 0 },
    });
  });

  it('lists and shows peers with their health, and changes them', async () => {
    const list = await call('GET', '/api/federation/peers/?limit=10');
    expect(list.json().data).toMatchObject({
      items: [{ fingerprint: peer.fingerprint, health: { state: 'healthy' } }],
      next_cursor: null,
    });
    const patched = await call('PATCH', `/api/federation/peers/${peer.fingerprint}/`, {
      trusted: false,
      trusted_for_moderation: true,
      bytes_per_day: 1_000_000,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().data).toMatchObject({
      trusted: false,
      trusted_for_moderation: true,
      bytes_per_day: 1_000_000,
      health: { state: 'untrusted' },
    });
    const empty = await call('PATCH', `/api/federation/peers/${peer.fingerprint}/`, {});
    expect(empty.statusCode).toBe(400);
    const back = await call('PATCH', `/api/federation/peers/${peer.fingerprint}/`, {
      trusted: true,
    });
    expect(back.json().data.health.state).toBe('healthy');
    const missing = await call('GET', `/api/federation/peers/${'0'.repeat(64)}/`);
    expect(missing.statusCode).toBe(404);
  });

  it('summarizes peers by state in /api/health, naming none, and exports gauges to /metrics', async () => {
    const health = await t.app.inject({ url: '/api/health' });
    expect(health.json().data.federation).toEqual({
      peers: 1,
      healthy: 1,
      lagging: 0,
      dead: 0,
      untrusted: 0,
    });
    expect(health.body).not.toContain(peer.fingerprint);
    const metrics = await t.app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
    const labels = `peer="Beta",fingerprint="${peer.fingerprint.slice(0, 16)}"`;
    expect(metrics.body).toContain(`axon_federation_peer_state{${labels},state="healthy"} 1`);
    expect(metrics.body).toContain(`axon_federation_peer_state{${labels},state="dead"} 0`);
    expect(metrics.body).toContain(`axon_federation_peer_queue_objects{${labels}} 0`);
  });

  it('holds the key of a replaced instance as pending until a sysop accepts that fingerprint', async () => {
    await peer.stop();
    replacement = await startPeerInstance(port);
    expect(replacement.url).toBe(peer.url);
    const refreshed = await call('POST', `/api/federation/peers/${peer.fingerprint}/refresh/`);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().data).toMatchObject({
      key_changed: true,
      peer: {
        fingerprint: peer.fingerprint,
        pending_fingerprint: replacement.fingerprint,
        health: { state: 'untrusted' },
      },
    });

    const wrong = await call('POST', `/api/federation/peers/${peer.fingerprint}/accept_key/`, {
      fingerprint: peer.fingerprint,
    });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().error.code).toBe('PEER_FINGERPRINT_MISMATCH');

    const accepted = await call('POST', `/api/federation/peers/${peer.fingerprint}/accept_key/`, {
      fingerprint: replacement.fingerprint,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json().data).toMatchObject({
      fingerprint: replacement.fingerprint,
      pending_fingerprint: null,
      health: { state: 'healthy' },
    });
    const none = await call(
      'POST',
      `/api/federation/peers/${replacement.fingerprint}/accept_key/`,
      {
        fingerprint: replacement.fingerprint,
      },
    );
    expect(none.json().error.code).toBe('NO_KEY_CHANGE');
  });

  it('removes a peer', async () => {
    const removed = await call('DELETE', `/api/federation/peers/${replacement!.fingerprint}/`);
    expect(removed.statusCode).toBe(200);
    expect(
      (await call('GET', `/api/federation/peers/${replacement!.fingerprint}/`)).statusCode,
    ).toBe(404);
    expect(await countRows(t, 'peers')).toBe(0);
  });
});
