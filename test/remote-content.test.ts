// Attachments across two real instances on loopback (A on SQLite, B on PostgreSQL): B fetches
// content A shares with it over signed requests, re-keyed for B by A, verified and readable on B; a
// blob tampered with on A's disk and a manifest whose chunk list was changed are refused and
// nothing of them kept; B killed with SIGKILL mid-fetch resumes after a restart without fetching
// again the chunks it had stored; while A is down, B shows the content unreachable and backs off.
import { registrationProof } from '../src/test-support/registration.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../src/bitsync/index.js';
import type { AppContext } from '../src/server/context.js';
import { enqueueRemoteContent } from '../src/server/modules/federation/remote-content.js';
import { startAxon, type ChildServer } from '../src/test-support/axon-process.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';
import { insertPeer } from '../src/test-support/federation-keys.js';
import { contextOn, fileRemoteMessage } from '../src/test-support/remote-content.js';

const CHUNK = 524_288;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Instance {
  env: Record<string, string>;
  server: ChildServer;
  ctx: AppContext;
}

describe('attachments across two instances', () => {
  const dirs: string[] = [];
  let pg: TestDatabase;
  let a: Instance;
  let b: Instance;
  let token: string;
  let boardOnA: string;
  let boardOnB: string;

  async function start(env: Record<string, string>): Promise<Instance> {
    const server = await startAxon({ env });
    return { env, server, ctx: await contextOn(env) };
  }

  async function api(path_: string, init: RequestInit & { json?: unknown } = {}) {
    const res = await fetch(`${a.server.url}${path_}`, {
      ...init,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.headers as Record<string, string> | undefined),
      },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
  }

  /** Alice uploads on A and posts it on the shared board; answers A's manifest (A's envelope only). */
  async function postOnA(bytes: Buffer): Promise<Manifest> {
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'photo.bin');
    const up = await api('/api/content/upload/', { method: 'POST', body: form });
    const hash = up.body.data.content_hash as string;
    const post = await api('/api/messages/', {
      method: 'POST',
      json: { board_id: boardOnA, subject: 'photo', body: 'look', attachments: [hash] },
    });
    expect(post.status).toBe(201);
    return (await a.ctx.content.manifest(hash))!;
  }

  /** The message reaches B with its manifest (as the inbox files it and hands the manifests over). */
  async function announceToB(manifest: Manifest, sent: unknown = manifest) {
    await fileRemoteMessage(b.ctx, boardOnB, manifest);
    return enqueueRemoteContent(b.ctx, a.ctx.identity.fingerprint, {
      [manifest.content_hash]: sent,
    });
  }

  /** B's answer about the content, as its readers see it. */
  async function stateOnB(hash: string) {
    const res = await fetch(`${b.server.url}/api/content/state/${hash}/`);
    return (
      (await res.json()) as {
        data: { state: string; chunks_done: number; last_error: string | null };
      }
    ).data;
  }

  /** Waits until B's fetch of the content leaves the states still in progress. */
  async function settledOnB(hash: string) {
    for (;;) {
      const state = await stateOnB(hash);
      if (state.state !== 'pending' && state.state !== 'absent') return state;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** How many times A served this chunk (its request log). */
  const servedByA = (chunkHash: string) =>
    a.server
      .stdout()
      .split('\n')
      .filter(
        (l) => l.includes('incoming request') && l.includes(`/api/federation/chunks/${chunkHash}`),
      ).length;

  beforeAll(async () => {
    const dirA = mkdtempSync(path.join(tmpdir(), 'axon-fetch-a-'));
    const dirB = mkdtempSync(path.join(tmpdir(), 'axon-fetch-b-'));
    dirs.push(dirA, dirB);
    pg = await createTestDatabase('postgres');
    const secret = randomBytes(32).toString('base64');
    [a, b] = await Promise.all([
      start({
        AXON_DATA_DIR: dirA,
        AXON_SECRET: secret,
        LOG_LEVEL: 'info',
        AXON_REGISTER_RATE_LIMIT: '1000',
      }),
      start({
        AXON_DATA_DIR: dirB,
        DATABASE_URL: pg.url,
        AXON_SECRET: secret,
        AXON_CHUNK_FETCHES: '1',
      }),
    ]);
    await insertPeer(a.ctx.database, b.ctx.identity, { base_url: b.server.url, trusted: true });
    await insertPeer(b.ctx.database, a.ctx.identity, { base_url: a.server.url, trusted: true });

    const register = async (username: string) =>
      (
        await api('/api/auth/register/', {
          method: 'POST',
          json: {
            username,
            password: 'correct horse battery',
            ...(await registrationProof(a.server.url)),
          },
        })
      ).body.data.token as string;
    token = await register('root');
    await a.ctx.database.db.updateTable('users').set({ is_sysop: true }).execute();
    boardOnA = (
      await api('/api/boards/', {
        method: 'POST',
        json: {
          name: 'shared',
          federation_room_id: 'room-1',
          trusted_peers: [b.ctx.identity.fingerprint],
        },
      })
    ).body.data.id as string;
    boardOnB = (
      await b.ctx.boards.create({
        name: 'shared',
        description: '',
        is_realtime: false,
        federation_room_id: 'room-1',
        trusted_peers: [a.ctx.identity.fingerprint],
        message_retention_days: null,
        read_access: 'public',
        post_access: 'members',
        position: 0,
      })
    ).id;
  });

  afterAll(async () => {
    await Promise.all([a?.server.stop(), b?.server.stop()]);
    await Promise.all([a?.ctx.database.close(), b?.ctx.database.close()]);
    await pg?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('fetches content from A, re-keyed by A for B, verified and readable on B', async () => {
    const bytes = randomBytes(3 * CHUNK + 77);
    const manifest = await postOnA(bytes);
    expect(await announceToB(manifest)).toEqual({ [manifest.content_hash]: { outcome: 'queued' } });
    expect(await settledOnB(manifest.content_hash)).toMatchObject({
      state: 'complete',
      chunks_done: 4,
    });
    const read = await fetch(`${b.server.url}/api/content/stream/${manifest.content_hash}/`);
    expect(read.status).toBe(200);
    expect(sha256(Buffer.from(await read.arrayBuffer()))).toBe(manifest.content_hash);
    const onA = (await a.ctx.content.manifest(manifest.content_hash))!;
    expect(Object.keys(onA.encrypted_aes_keys)).toContain(b.ctx.identity.fingerprint);
    expect(Object.keys(onA.encrypted_aes_keys)).toContain(a.ctx.identity.fingerprint);
  });

  it('refuses a blob tampered with on A: not stored on B, the content not readable', async () => {
    const manifest = await postOnA(randomBytes(2 * CHUNK));
    const file = path.join(
      a.env.AXON_DATA_DIR!,
      'chunks',
      'blobs',
      manifest.chunks[1]!.slice(0, 2),
      manifest.chunks[1]!,
    );
    const blob = readFileSync(file);
    blob[1000]! ^= 0x80;
    writeFileSync(file, blob);
    await announceToB(manifest);
    const state = await settledOnB(manifest.content_hash);
    expect(state.state).toBe('failed');
    expect(state.last_error).toMatch(/chunk 1 from .* failed verification \(hash mismatch\)/);
    const store = await b.ctx.content.chunkStore();
    expect(await store.has(manifest.chunks[1]!)).toBe(false);
    const read = await fetch(`${b.server.url}/api/content/stream/${manifest.content_hash}/`);
    expect(read.status).toBe(404);
  });

  it('refuses a manifest whose chunk list was changed', async () => {
    const manifest = await postOnA(randomBytes(2 * CHUNK + 5));
    const changed = {
      ...manifest,
      chunks: [manifest.chunks[1], manifest.chunks[0], manifest.chunks[2]],
    };
    await announceToB(manifest, changed);
    const state = await settledOnB(manifest.content_hash);
    expect(state.state).toBe('failed');
    // A re-keys the content it has for B: its answer names other chunks, so it does not count.
    expect(state.last_error).toMatch(/answered a re-key with another manifest/);
    const store = await b.ctx.content.chunkStore();
    for (const chunk of manifest.chunks) expect(await store.has(chunk)).toBe(false);
  });

  it('resumes after B is killed mid-fetch, without fetching again what it had stored', async () => {
    const manifest = await postOnA(randomBytes(40 * CHUNK));
    await announceToB(manifest);
    for (;;) {
      const row = await b.ctx.database.db
        .selectFrom('remote_fetches')
        .select('chunks_done')
        .where('content_hash', '=', manifest.content_hash)
        .executeTakeFirstOrThrow();
      if (row.chunks_done >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await b.server.stop('SIGKILL');
    const store = await b.ctx.content.chunkStore();
    const had: string[] = [];
    for (const chunk of manifest.chunks) if (await store.has(chunk)) had.push(chunk);
    expect(had.length).toBeGreaterThanOrEqual(3);
    expect(had.length).toBeLessThan(manifest.chunks.length);

    b.server = await startAxon({ env: b.env });
    expect(await settledOnB(manifest.content_hash)).toMatchObject({
      state: 'complete',
      chunks_done: 40,
    });
    for (const chunk of had) expect(servedByA(chunk)).toBe(1);
    for (const chunk of manifest.chunks) expect(servedByA(chunk)).toBeGreaterThanOrEqual(1);
  });

  it('shows a clear state while A cannot be reached, and backs off', async () => {
    const manifest = await postOnA(randomBytes(CHUNK));
    await a.server.stop();
    await announceToB(manifest);
    const state = await settledOnB(manifest.content_hash);
    expect(state.state).toBe('unreachable');
    expect(state.last_error).toMatch(/unreachable/);
    const row = await b.ctx.database.db
      .selectFrom('remote_fetches')
      .select(['attempts', 'next_attempt_at'])
      .where('content_hash', '=', manifest.content_hash)
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
    expect(row.next_attempt_at).toBeGreaterThan(Date.now());
  });
});
