// Attachments across instances on SQLite and PostgreSQL, two instances in one process: B fetches
// content A shares with it (re-keyed first), verifies and keeps it; a tampered blob or manifest is
// refused and nothing of it kept; an oversized attachment is refused and counted; a fetch cut short
// by an unreachable peer resumes without fetching again what it has; A serves only what it shares.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../../bitsync/index.js';
import {
  type Account,
  bearer,
  createBoard,
  multipartFile,
  postAttachment,
  registerUser,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { insertPeer } from '../../../test-support/federation-keys.js';
import { fileRemoteMessage } from '../../../test-support/remote-content.js';
import { AppError } from '../../http/errors.js';
import { chunkForPeer, rekeyForPeer } from './chunks.js';
import type { PeerRow } from '../../db/schema.js';
import { PeerUnreachableError, RemoteContent, type ChunkSource } from './remote-content.js';
import { RemoteCache } from './remote-cache.js';

const CHUNK = 524_288;

/** Peer B's way to A, in process: A's own chunk and re-key rules, as its routes apply them. */
class InProcessSource implements ChunkSource {
  requests: string[] = [];
  /** Chunk requests answered before A becomes unreachable (Infinity: always reachable). */
  answerChunks = Infinity;

  constructor(
    private readonly a: TestApp,
    private readonly b: TestApp,
  ) {}

  private get asking() {
    return { fingerprint: this.b.ctx.identity.fingerprint, pubkey: this.b.ctx.identity.pubkey };
  }

  async chunk(_peer: PeerRow, chunkHash: string): Promise<Buffer | undefined> {
    if (this.answerChunks <= 0) throw new PeerUnreachableError('connection refused');
    this.answerChunks -= 1;
    this.requests.push(chunkHash);
    try {
      const served = await chunkForPeer(this.a.ctx, this.asking, chunkHash);
      const parts: Buffer[] = [];
      for await (const part of served.open()) parts.push(part as Buffer);
      return Buffer.concat(parts);
    } catch (error) {
      if (error instanceof AppError && error.status === 404) return undefined;
      throw error;
    }
  }

  async rekey(_peer: PeerRow, contentHash: string): Promise<unknown> {
    try {
      return JSON.parse(JSON.stringify(await rekeyForPeer(this.a.ctx, this.asking, contentHash)));
    } catch (error) {
      if (error instanceof AppError && error.status === 404) return undefined;
      throw error;
    }
  }
}

describe.each(DIALECTS)('remote content on %s', (dialect) => {
  let a: TestApp;
  let b: TestApp;
  let alice: Account;
  let sharedBoard: string;
  let privateBoard: string;
  let source: InProcessSource;
  let fetcher: RemoteContent;

  /** Alice uploads `bytes` on A and posts them on `board`; answers A's manifest. */
  async function postOnA(bytes: Buffer, board = sharedBoard): Promise<Manifest> {
    const hash = await postAttachment(a, alice.token, board, bytes);
    return (await a.ctx.content.manifest(hash))!;
  }

  const peerHealth = () =>
    b.ctx.database.db
      .selectFrom('peer_delivery')
      .selectAll()
      .where('peer_fingerprint', '=', a.ctx.identity.fingerprint)
      .executeTakeFirst();

  const storeHas = async (t: TestApp, hashes: string[]) => {
    const store = await t.ctx.content.chunkStore();
    return Promise.all(hashes.map((h) => store.has(h)));
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startTestApp(dialect, { AXON_UPLOAD_LIMIT: String(4 * CHUNK) }),
      startTestApp(dialect),
    ]);
    const [sysop, first] = await registerUsers(a, ['root', 'alice'], { root: 'sysop' });
    alice = first;
    const board = (payload: Record<string, unknown>) => createBoard(a, sysop.token, payload);
    sharedBoard = await board({
      name: 'shared',
      federation_room_id: 'room-1',
      trusted_peers: [b.ctx.identity.fingerprint],
    });
    privateBoard = await board({ name: 'ours' });
    const peerOf = (t: TestApp) => ({
      base_url: `http://${t.ctx.identity.nickname}.test`,
      trusted: true,
    });
    await insertPeer(a.ctx.database, b.ctx.identity, peerOf(b));
    await insertPeer(b.ctx.database, a.ctx.identity, peerOf(a));
  });
  afterAll(async () => {
    await fetcher?.stop();
    await a?.close();
    await b?.close();
  });
  beforeEach(() => {
    source = new InProcessSource(a, b);
    fetcher = new RemoteContent(
      b.ctx.database,
      b.ctx.content,
      b.ctx.identity,
      source,
      {
        maxAttachmentBytes: 10 * CHUNK,
        bytesPerDay: 100 * CHUNK,
        parallelFetches: 3,
        cacheBytes: 1000 * CHUNK,
        cachePeerBytes: 1000 * CHUNK,
      },
      (error) => {
        throw error;
      },
    );
  });

  it('fetches shared content, re-keyed for B first, verified and readable', async () => {
    const bytes = randomBytes(2 * CHUNK + 1000);
    const manifest = await postOnA(bytes);
    expect(Object.keys(manifest.encrypted_aes_keys)).toEqual([a.ctx.identity.fingerprint]);

    const queued = await fetcher.enqueue(a.ctx.identity.fingerprint, {
      [manifest.content_hash]: manifest,
    });
    expect(queued).toEqual({ [manifest.content_hash]: { outcome: 'queued' } });
    expect(await fetcher.stateOf(manifest.content_hash)).toMatchObject({
      state: 'pending',
      chunksDone: 0,
      chunksTotal: 3,
    });
    expect(await fetcher.pendingChunkFetches(a.ctx.identity.fingerprint)).toBe(3);
    // The message is on B at once; its attachment shows how far it is.
    const boardOnB = await b.ctx.boards.create({
      name: `from-a-${randomBytes(3).toString('hex')}`,
      description: '',
      is_realtime: false,
      federation_room_id: 'room-1',
      trusted_peers: [a.ctx.identity.fingerprint],
      message_retention_days: null,
      read_access: 'public',
      post_access: 'members',
      position: 0,
    });
    await fileRemoteMessage(b.ctx, boardOnB.id, manifest);
    const stateUrl = `/api/content/state/${manifest.content_hash}/`;
    expect((await b.app.inject({ url: stateUrl })).json().data).toEqual({
      content_hash: manifest.content_hash,
      state: 'pending',
      chunks_done: 0,
      chunks_total: 3,
      last_error: null,
    });
    expect(
      (await b.app.inject({ url: `/api/content/stream/${manifest.content_hash}/` })).statusCode,
    ).toBe(404);
    expect((await b.app.inject({ url: `/api/content/state/${'0'.repeat(64)}/` })).statusCode).toBe(
      404,
    );
    await fetcher.runDue();

    expect(await fetcher.stateOf(manifest.content_hash)).toEqual({
      state: 'complete',
      chunksDone: 3,
      chunksTotal: 3,
      lastError: null,
    });
    expect(await fetcher.pendingChunkFetches(a.ctx.identity.fingerprint)).toBe(0);
    // A keeps its own envelope and gained B's; B reads the plaintext.
    const onA = (await a.ctx.content.manifest(manifest.content_hash))!;
    expect(Object.keys(onA.encrypted_aes_keys).sort()).toEqual(
      [a.ctx.identity.fingerprint, b.ctx.identity.fingerprint].sort(),
    );
    const onB = (await b.ctx.content.manifest(manifest.content_hash))!;
    const parts: Buffer[] = [];
    for await (const part of await b.ctx.content.open(onB)) parts.push(part as Buffer);
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect((await b.app.inject({ url: stateUrl })).json().data.state).toBe('complete');
    const read = await b.app.inject({ url: `/api/content/stream/${manifest.content_hash}/` });
    expect(read.statusCode).toBe(200);
    expect(read.rawPayload.equals(bytes)).toBe(true);
    // Announced again: already here.
    expect(
      await fetcher.enqueue(a.ctx.identity.fingerprint, { [manifest.content_hash]: manifest }),
    ).toEqual({ [manifest.content_hash]: { outcome: 'present' } });
  });

  it('refuses a tampered blob: nothing of it stored, the peer’s refusal counted', async () => {
    const manifest = await postOnA(randomBytes(CHUNK + 10));
    const files = (await a.ctx.content.chunkStore()).blobFiles!;
    const file = files.pathOf(manifest.chunks[1]!);
    const blob = await readFile(file);
    blob[20]! ^= 0x01; // inside the ciphertext of the 10-byte last chunk
    await writeFile(file, blob);
    const before = Number((await peerHealth())?.refused_in ?? 0);
    await fetcher.enqueue(a.ctx.identity.fingerprint, { [manifest.content_hash]: manifest });
    await fetcher.runDue();

    const state = await fetcher.stateOf(manifest.content_hash);
    expect(state.state).toBe('failed');
    expect(state.lastError).toMatch(/chunk 1 from .* failed verification \(hash mismatch\)/);
    expect(await storeHas(b, [manifest.chunks[1]!])).toEqual([false]);
    expect(await b.ctx.content.manifest(manifest.content_hash)).toBeUndefined();
    const health = await peerHealth();
    expect(Number(health?.refused_in)).toBe(before + 1);
    expect(health?.last_error).toMatch(/failed verification/);
  });

  it('refuses a tampered manifest: chunks reordered fail their tags, a wrong count is refused', async () => {
    const posted = await postOnA(randomBytes(2 * CHUNK));
    // Sent with an envelope for B, so the chunks themselves are what is checked.
    const manifest = await rekeyForPeer(
      a.ctx,
      { fingerprint: b.ctx.identity.fingerprint, pubkey: b.ctx.identity.pubkey },
      posted.content_hash,
    );
    const swapped = { ...manifest, chunks: [manifest.chunks[1]!, manifest.chunks[0]!] };
    await fetcher.enqueue(a.ctx.identity.fingerprint, { [manifest.content_hash]: swapped });
    await fetcher.runDue();
    const state = await fetcher.stateOf(manifest.content_hash);
    expect(state.state).toBe('failed');
    expect(state.lastError).toMatch(/failed verification \(authentication failed\)/);
    expect(await storeHas(b, manifest.chunks)).toEqual([false, false]);
    expect(await b.ctx.content.manifest(manifest.content_hash)).toBeUndefined();

    const other = await postOnA(randomBytes(CHUNK + 5));
    const short = { ...other, chunks: [other.chunks[0]!] };
    const answer = await fetcher.enqueue(a.ctx.identity.fingerprint, {
      [other.content_hash]: short,
    });
    expect(answer[other.content_hash]).toMatchObject({ outcome: 'refused' });
    expect(await fetcher.stateOf(other.content_hash)).toMatchObject({ state: 'absent' });
    const misfiled = await fetcher.enqueue(a.ctx.identity.fingerprint, { ['f'.repeat(64)]: other });
    expect(misfiled['f'.repeat(64)]).toMatchObject({ outcome: 'refused' });
  });

  it('refuses an attachment larger than the peer may send, and counts it', async () => {
    await b.ctx.database.db
      .updateTable('peers')
      .set({ max_attachment_bytes: CHUNK })
      .where('fingerprint', '=', a.ctx.identity.fingerprint)
      .execute();
    const before = Number((await peerHealth())?.refused_in ?? 0);
    const manifest = await postOnA(randomBytes(CHUNK + 1));
    const answer = await fetcher.enqueue(a.ctx.identity.fingerprint, {
      [manifest.content_hash]: manifest,
    });
    expect(answer[manifest.content_hash]).toMatchObject({
      outcome: 'refused',
      reason: expect.stringMatching(/larger than the 524288/),
    });
    expect(await fetcher.stateOf(manifest.content_hash)).toMatchObject({ state: 'refused' });
    expect(Number((await peerHealth())?.refused_in)).toBe(before + 1);
    await fetcher.runDue();
    expect(source.requests).toEqual([]);
    await b.ctx.database.db
      .updateTable('peers')
      .set({ max_attachment_bytes: null })
      .where('fingerprint', '=', a.ctx.identity.fingerprint)
      .execute();
  });

  it('resumes after the peer was unreachable without fetching a chunk twice', async () => {
    const bytes = randomBytes(3 * CHUNK);
    const manifest = await postOnA(bytes);
    await fetcher.enqueue(a.ctx.identity.fingerprint, { [manifest.content_hash]: manifest });
    source.answerChunks = 1;
    await fetcher.runDue();
    const cut = await fetcher.stateOf(manifest.content_hash);
    expect(cut).toMatchObject({ state: 'unreachable', chunksDone: 1, chunksTotal: 3 });
    expect(cut.lastError).toMatch(/unreachable: connection refused/);
    expect(await fetcher.pendingChunkFetches(a.ctx.identity.fingerprint)).toBe(2);
    expect(fetcher.pendingChunksCounted(a.ctx.identity.fingerprint)).toBe(2);
    // Garbage collection spares the chunk a fetch in progress already has.
    const stored = async () => (await storeHas(b, manifest.chunks)).filter(Boolean).length;
    expect(await stored()).toBe(1);
    await b.ctx.content.collect(Date.now() + 7 * 24 * 3600_000, 0);
    expect(await stored()).toBe(1);
    // Backing off: nothing is asked before the next attempt is due.
    source.answerChunks = Infinity;
    await fetcher.runDue();
    expect(source.requests).toHaveLength(1);

    await b.ctx.database.db
      .updateTable('remote_fetches')
      .set({ next_attempt_at: 0 })
      .where('content_hash', '=', manifest.content_hash)
      .execute();
    await fetcher.runDue();
    expect(await fetcher.stateOf(manifest.content_hash)).toMatchObject({ state: 'complete' });
    expect(fetcher.pendingChunksCounted(a.ctx.identity.fingerprint)).toBe(0);
    expect(source.requests.sort()).toEqual([...manifest.chunks].sort());
  });

  it('serves chunks and re-keys only for content on a board shared with the asking peer', async () => {
    const shared = await postOnA(randomBytes(100));
    const unshared = await postOnA(randomBytes(100), privateBoard);
    const asking = { fingerprint: b.ctx.identity.fingerprint, pubkey: b.ctx.identity.pubkey };
    const stranger = { fingerprint: 'e'.repeat(64), pubkey: b.ctx.identity.pubkey };
    expect((await chunkForPeer(a.ctx, asking, shared.chunks[0]!)).size).toBe(128);
    for (const [peer, hash] of [
      [asking, unshared.chunks[0]!],
      [stranger, shared.chunks[0]!],
      [asking, '0'.repeat(64)],
      [asking, '../../etc/passwd'],
    ] as const) {
      await expect(chunkForPeer(a.ctx, peer, hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(rekeyForPeer(a.ctx, asking, unshared.content_hash)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const before = await a.ctx.content.manifest(unshared.content_hash);
    await expect(rekeyForPeer(a.ctx, stranger, shared.content_hash)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await a.ctx.content.manifest(unshared.content_hash)).toEqual(before);
  });
  it('evicts the least recently read remote content past its caps, never local content, and fetches it again when asked', async () => {
    const older = await postOnA(randomBytes(CHUNK + 1));
    const newer = await postOnA(randomBytes(CHUNK + 2));
    await fetcher.enqueue(a.ctx.identity.fingerprint, {
      [older.content_hash]: older,
      [newer.content_hash]: newer,
    });
    await fetcher.runDue();
    const boardOnB = await b.ctx.boards.create({
      name: `cache-${randomBytes(3).toString('hex')}`,
      description: '',
      is_realtime: false,
      federation_room_id: null,
      trusted_peers: [],
      message_retention_days: null,
      read_access: 'public',
      post_access: 'members',
      position: 0,
    });
    for (const m of [older, newer]) await fileRemoteMessage(b.ctx, boardOnB.id, m);
    // Content uploaded on B: never evicted, whatever the caps.
    const bob = await registerUser(b.app, 'bob');
    const localBytes = randomBytes(CHUNK + 3);
    const { payload, headers } = multipartFile(localBytes, 'local.bin');
    const upload = await b.app.inject({
      method: 'POST',
      url: '/api/content/upload/',
      headers: { ...bearer(bob.token), ...headers },
      payload,
    });
    const local = (await b.ctx.content.manifest(upload.json().data.content_hash as string))!;
    // Reading `newer` makes it the most recently read remote content.
    const stream = (hash: string) =>
      b.app.inject({ url: `/api/content/stream/${hash}/`, headers: bearer(bob.token) });
    expect((await stream(newer.content_hash)).statusCode).toBe(200);

    const cache = new RemoteCache(b.ctx.database, b.ctx.content, {
      cacheBytes: newer.size + 10,
      cachePeerBytes: Number.MAX_SAFE_INTEGER,
    });
    const evicted = await cache.evict();
    expect(evicted.contents).toBeGreaterThanOrEqual(1);
    expect(await storeHas(b, older.chunks)).toEqual([false, false]);
    expect(await storeHas(b, newer.chunks)).toEqual([true, true]);
    expect(await storeHas(b, local.chunks)).toEqual([true, true]);
    expect(await b.ctx.content.manifest(older.content_hash)).toBeUndefined();
    expect((await cache.evict()).contents).toBe(0);

    // Asked for again: back in the queue, fetched, readable.
    b.ctx.content.remoteReads = cache;
    const state = await b.app.inject({ url: `/api/content/state/${older.content_hash}/` });
    expect(state.json().data).toMatchObject({ state: 'pending', chunks_done: 0, chunks_total: 2 });
    await fetcher.runDue();
    const again = await stream(older.content_hash);
    expect(again.statusCode).toBe(200);

    // A cap per peer evicts what came from that peer, and still nothing local.
    const perPeer = new RemoteCache(b.ctx.database, b.ctx.content, {
      cacheBytes: Number.MAX_SAFE_INTEGER,
      cachePeerBytes: 1,
    });
    await perPeer.evict();
    expect(await storeHas(b, [...older.chunks, ...newer.chunks])).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(await storeHas(b, local.chunks)).toEqual([true, true]);
    expect((await stream(local.content_hash)).statusCode).toBe(200);
  });
});
