// The outbound client against real processes on loopback: an axon instance reached directly and
// through a real microsocks, a recording SOCKS5 server for `.onion` names, and small HTTP
// fixtures for what a hostile or broken peer may answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAxon, type ChildServer } from '../../../test-support/axon-process.js';
import {
  createTestDatabase,
  DIALECTS,
  type TestDatabase,
} from '../../../test-support/databases.js';
import {
  insertPeer,
  signedHeaders,
  testPeerKey,
  type TestPeerKey,
} from '../../../test-support/federation-keys.js';
import { startMicrosocks, startRecordingSocks } from '../../../test-support/socks.js';
import { openDatabase } from '../../db/database.js';
import { FederationClient, FederationError, type PeerAddress } from './client.js';

const OPTIONS = { responseLimit: 1024 * 1024, connectTimeoutMs: 10_000, timeoutMs: 10_000 };
const PING = '/api/federation/ping/';

/** An instance in its own process whose peers include `key` (trusted). */
async function instanceTrusting(test: TestDatabase, key: TestPeerKey): Promise<ChildServer> {
  const server = await startAxon({ env: { DATABASE_URL: test.url, AXON_DATA_DIR: test.dir } });
  const database = openDatabase(test.config);
  try {
    await insertPeer(database, key, { base_url: 'http://a.example', trusted: true });
  } finally {
    await database.close();
  }
  return server;
}

/** One GET with exactly these headers (Host included), as an attacker replaying bytes would send it. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'GET', headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the federation client and a real instance', () => {
  let test: TestDatabase;
  let server: ChildServer;
  let key: TestPeerKey;
  let client: FederationClient;
  let peer: PeerAddress;

  beforeAll(async () => {
    test = await createTestDatabase('sqlite');
    key = testPeerKey();
    server = await instanceTrusting(test, key);
    client = new FederationClient(key, { proxy: undefined, ...OPTIONS });
    const identity = await client.fetchIdentity(server.url, {
      transport: 'direct',
      proxy_url: null,
    });
    peer = { base_url: server.url, pubkey: identity.pubkey, transport: 'direct', proxy_url: null };
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
    await test.drop();
  });

  it('fetches the identity and pings directly; the answer is verified against the pinned key', async () => {
    const res = await client.request(peer, { method: 'GET', path: PING });
    expect(res.status).toBe(200);
    expect(res.json<{ data: { fingerprint: string } }>().data.fingerprint).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it('refuses an answer signed by another key than the one pinned for the peer', async () => {
    const impostor = { ...peer, pubkey: testPeerKey().pubkey };
    await expect(client.request(impostor, { method: 'GET', path: PING })).rejects.toThrow(
      /without a valid signature by the peer's pinned key/,
    );
  });

  it('goes through a real microsocks with username and password', async () => {
    const proxy = await startMicrosocks({ user: 'axon', password: 's3cret' });
    try {
      const viaSocks = { ...peer, transport: 'socks5' as const, proxy_url: proxy.url };
      const res = await client.request(viaSocks, { method: 'GET', path: PING });
      expect(res.status).toBe(200);
      const identity = await client.fetchIdentity(server.url, viaSocks);
      expect(identity.pubkey).toBe(peer.pubkey);
      // The proxy is really in the path: with the wrong password nothing gets through.
      const wrong = { ...viaSocks, proxy_url: proxy.url.replace('s3cret', 'wrong') };
      await expect(client.request(wrong, { method: 'GET', path: PING })).rejects.toThrow(
        /refused the username and password/,
      );
    } finally {
      await proxy.stop();
    }
  });

  it('goes through the global proxy (AXON_PROXY) for transport "proxy"', async () => {
    const proxy = await startMicrosocks();
    const global = new FederationClient(key, { proxy: proxy.url, ...OPTIONS });
    try {
      const res = await global.request(
        { ...peer, transport: 'proxy' },
        { method: 'GET', path: PING },
      );
      expect(res.status).toBe(200);
    } finally {
      await global.close();
      await proxy.stop();
    }
    const none = new FederationClient(key, { proxy: undefined, ...OPTIONS });
    await expect(
      none.request({ ...peer, transport: 'proxy' }, { method: 'GET', path: PING }),
    ).rejects.toThrow(/AXON_PROXY is not set/);
    await none.close();
  });
});

describe('.onion peers', () => {
  const onion = 'http://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion';
  const peer: PeerAddress = {
    base_url: onion,
    pubkey: testPeerKey().pubkey,
    transport: 'direct',
    proxy_url: null,
  };

  it('go through the proxy, which gets the name itself (ATYP domain name) to resolve', async () => {
    const proxy = await startRecordingSocks();
    const client = new FederationClient(testPeerKey(), { proxy: proxy.url, ...OPTIONS });
    try {
      await expect(client.request(peer, { method: 'GET', path: PING })).rejects.toThrow(
        /host unreachable/,
      );
      await expect(
        client.fetchIdentity(onion, { transport: 'direct', proxy_url: null }),
      ).rejects.toThrow(FederationError);
      expect(proxy.requests).toEqual([
        { atyp: 3, host: new URL(onion).hostname, port: 80 },
        { atyp: 3, host: new URL(onion).hostname, port: 80 },
      ]);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('are refused without a proxy, before any connection or name lookup', async () => {
    const client = new FederationClient(testPeerKey(), { proxy: undefined, ...OPTIONS });
    await expect(client.request(peer, { method: 'GET', path: PING })).rejects.toThrow(
      /onion address: set AXON_PROXY/,
    );
    await expect(
      client.fetchIdentity(onion, { transport: 'direct', proxy_url: null }),
    ).rejects.toThrow(/never resolved locally/);
    await client.close();
  });
});

describe('what a peer may answer', () => {
  let server: http.Server;
  let base: string;
  const hits: string[] = [];
  const client = new FederationClient(testPeerKey(), { proxy: undefined, ...OPTIONS });
  const peerAt = (): PeerAddress => ({
    base_url: base,
    pubkey: testPeerKey().pubkey,
    transport: 'direct',
    proxy_url: null,
  });

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hits.push(request.url ?? '');
      if (request.url?.startsWith('/redirect')) {
        response.writeHead(302, { location: `${base}/target` });
        response.end();
      } else if (request.url?.startsWith('/huge-declared')) {
        response.writeHead(200, { 'content-length': String(4096) });
        response.end(Buffer.alloc(4096));
      } else if (request.url?.startsWith('/huge')) {
        // Chunked, no length: the client must count and stop.
        response.writeHead(200);
        for (let i = 0; i < 64; i++) response.write(Buffer.alloc(1024));
        response.end();
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"success":true}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a redirect is an error and is not followed', async () => {
    hits.length = 0;
    const error = await client
      .request(peerAt(), { method: 'GET', path: '/redirect' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FederationError);
    expect((error as FederationError).status).toBe(302);
    expect(String(error)).toMatch(/redirects are never followed/);
    expect(hits).toEqual(['/redirect']);
  });

  it('an answer past the byte limit is cut off with an error, declared or not', async () => {
    await expect(
      client.request(peerAt(), { method: 'GET', path: '/huge', maxBytes: 8 * 1024 }),
    ).rejects.toThrow(/more than 8192 bytes; the answer was cut off/);
    await expect(
      client.request(peerAt(), { method: 'GET', path: '/huge-declared', maxBytes: 1024 }),
    ).rejects.toThrow(/answered 4096 bytes; at most 1024 are read/);
  });

  it('an unsigned answer is refused', async () => {
    await expect(client.request(peerAt(), { method: 'GET', path: '/plain' })).rejects.toThrow(
      /answered 200 without a valid signature/,
    );
  });

  it('an unreachable peer is an error naming it', async () => {
    const gone = { ...peerAt(), base_url: 'http://127.0.0.1:1' };
    await expect(client.request(gone, { method: 'GET', path: PING })).rejects.toThrow(
      /127\.0\.0\.1:1 is unreachable/,
    );
  });
});

describe.each(DIALECTS)('a replayed request after a restart, on %s', (dialect) => {
  it('is refused: the replay cache lives in the database', async () => {
    const test = await createTestDatabase(dialect);
    const key = testPeerKey();
    let server = await instanceTrusting(test, key);
    try {
      const host = new URL(server.url).host;
      const headers = { ...signedHeaders(key, { method: 'GET', pathAndQuery: PING, host }), host };
      expect((await rawGet(`${server.url}${PING}`, headers)).status).toBe(200);
      await server.stop();
      server = await startAxon({
        env: { DATABASE_URL: test.url, AXON_DATA_DIR: test.dir, PORT: host.split(':')[1] },
      });
      const again = await rawGet(`${server.url}${PING}`, headers);
      expect(again.status).toBe(409);
      expect(JSON.parse(again.body).error.code).toBe('FEDERATION_REPLAY');
    } finally {
      await server.stop();
      await test.drop();
    }
  });
});
