// The content routes peers call, signed, on SQLite and PostgreSQL: a blob (whole or a range) and a
// re-key for content on a board shared with the asking peer; the same 404 for anything else; a bad
// re-key body refused with nothing changed; an unsigned request refused before anything is read.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../../../bitsync/index.js';
import {
  createBoard,
  postAttachment,
  registerUsers,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import {
  insertPeer,
  signedHeaders,
  testPeerKey,
  type TestPeerKey,
} from '../../../test-support/federation-keys.js';

const HOST = 'a.example';

describe.each(DIALECTS)('chunk and re-key routes on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let peer: TestPeerKey;
  let other: TestPeerKey;
  let shared: { hash: string; chunks: string[] };
  let unshared: { hash: string; chunks: string[] };

  const signed = (
    key: TestPeerKey,
    method: 'GET' | 'POST',
    url: string,
    extra: { json?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const body = extra.json === undefined ? undefined : Buffer.from(JSON.stringify(extra.json));
    const headers = signedHeaders(key, {
      method,
      pathAndQuery: url,
      host: HOST,
      ...(body === undefined ? {} : { body }),
    });
    return t.app.inject({
      method,
      url,
      headers: {
        host: HOST,
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...extra.headers,
      },
      ...(body === undefined ? {} : { payload: body }),
    });
  };

  async function post(board: string): Promise<{ hash: string; chunks: string[] }> {
    const hash = await postAttachment(t, alice.token, board, randomBytes(600_000));
    return { hash, chunks: (await t.ctx.content.manifest(hash))!.chunks };
  }

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_PUBLIC_URL: `https://${HOST}` });
    peer = testPeerKey();
    other = testPeerKey();
    await insertPeer(t.ctx.database, peer, { base_url: 'https://b.example', trusted: true });
    await insertPeer(t.ctx.database, other, { base_url: 'https://c.example', trusted: true });
    const [sysop, first] = await registerUsers(t, ['root', 'alice'], { root: 'sysop' });
    alice = first;
    const board = (payload: Record<string, unknown>) => createBoard(t, sysop.token, payload);
    shared = await post(
      await board({ name: 'shared', federation_room_id: 'r1', trusted_peers: [peer.fingerprint] }),
    );
    unshared = await post(await board({ name: 'ours' }));
  });
  afterAll(() => t.close());

  it('serves a blob of shared content as stored, whole or a range', async () => {
    const files = (await t.ctx.content.chunkStore()).blobFiles!;
    const blob = await readFile(files.pathOf(shared.chunks[1]!));
    const url = `/api/federation/chunks/${shared.chunks[1]}`;
    const whole = await signed(peer, 'GET', url);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['x-signature']).toBeDefined();
    expect(whole.rawPayload.equals(blob)).toBe(true);
    const part = await signed(peer, 'GET', url, { headers: { range: 'bytes=10-19' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${blob.length}`);
    expect(part.rawPayload.equals(blob.subarray(10, 20))).toBe(true);
    const beyond = await signed(peer, 'GET', url, { headers: { range: 'bytes=999999-' } });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.json().error.code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('answers the same 404 for a chunk not shared with the peer, unknown, or not a hash', async () => {
    for (const [key, chunk] of [
      [peer, unshared.chunks[0]!],
      [other, shared.chunks[0]!],
      [peer, '0'.repeat(64)],
      [peer, 'not-a-hash'],
    ] as const) {
      const res = await signed(key, 'GET', `/api/federation/chunks/${chunk}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses an unsigned request', async () => {
    const res = await t.app.inject({
      url: `/api/federation/chunks/${shared.chunks[0]}`,
      headers: { host: HOST },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('FEDERATION_SIGNATURE');
  });

  it('re-keys shared content for the asking peer, keeping every envelope', async () => {
    const before = (await t.ctx.content.manifest(shared.hash))!;
    const res = await signed(peer, 'POST', '/api/federation/rekey/', {
      json: { content_hash: shared.hash },
    });
    expect(res.statusCode).toBe(200);
    const manifest = res.json().data.manifest;
    expect(manifest.chunks).toEqual(before.chunks);
    expect(Object.keys(manifest.encrypted_aes_keys).sort()).toEqual(
      [...Object.keys(before.encrypted_aes_keys), peer.fingerprint].sort(),
    );
    // The peer's envelope opens to the content's key.
    expect(openEnvelope(manifest, peer.privateKey)).toEqual(
      openEnvelope(before, t.ctx.identity.privateKey),
    );
    expect(await t.ctx.content.manifest(shared.hash)).toEqual(manifest);
  });

  it('refuses a re-key of content not shared with the peer, or a bad body, changing nothing', async () => {
    const before = await t.ctx.content.manifest(unshared.hash);
    for (const [key, json, status, code] of [
      [peer, { content_hash: unshared.hash }, 404, 'NOT_FOUND'],
      [other, { content_hash: shared.hash }, 404, 'NOT_FOUND'],
      [peer, { content_hash: 'x' }, 400, 'VALIDATION_ERROR'],
      [peer, { content_hash: shared.hash, extra: 1 }, 400, 'VALIDATION_ERROR'],
    ] as const) {
      const res = await signed(key, 'POST', '/api/federation/rekey/', { json });
      expect(res.statusCode).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    expect(await t.ctx.content.manifest(unshared.hash)).toEqual(before);
    expect(
      Object.keys((await t.ctx.content.manifest(shared.hash))!.encrypted_aes_keys),
    ).not.toContain(other.fingerprint);
  });
});
