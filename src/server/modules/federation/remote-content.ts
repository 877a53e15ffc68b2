// Content announced by peers (DESIGN.md §7): one durable job per content_hash fetches its chunks from
// the peers that announced it, several at once, checks every blob (hash, length, GCM tag) before
// storing it and the whole against content_hash at the end, and resumes after a restart from the
// blobs the store already holds. The content joins the manifests table only once complete.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely, type Selectable } from 'kysely';
import {
  BitSyncIntegrityError,
  ManifestFormatError,
  openEnvelope,
  parseManifest,
  serializeManifest,
  validateManifest,
  verifyContent,
  type Manifest,
} from '../../../bitsync/index.js';
import { openChunk } from '../../../bitsync/chunk-cipher.js';
import type { RemoteContentLimits } from '../../config.js';
import type { AppContext } from '../../context.js';
import type { AxonDatabase } from '../../db/database.js';
import type {
  DatabaseSchema,
  PeerRow,
  RemoteFetchesTable,
  RemoteFetchState,
} from '../../db/schema.js';
import { WokenService } from '../../services/woken.js';
import type { ContentService, ContentState } from '../content/service.js';
import type { InstanceIdentity } from './identity.js';

type FetchRow = Selectable<RemoteFetchesTable>;

/** How chunks and re-keys reach a peer: signed requests through the federation client. */
export interface ChunkSource {
  /**
   * The blob named `chunkHash` as the peer sent it, unchecked; undefined when the peer answers 404
   * (it does not have it, or does not share it with us). PeerUnreachableError for anything else.
   */
  chunk(peer: PeerRow, chunkHash: string): Promise<Buffer | undefined>;
  /** The manifest the peer answers to a re-key for our key; undefined on 404. */
  rekey(peer: PeerRow, contentHash: string): Promise<unknown>;
}

/** The peer could not be reached, or answered something other than the blob or a 404. */
export class PeerUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerUnreachableError';
  }
}

/** Why a fetch stopped, and in which state it leaves the job. */
class FetchStopped extends Error {
  constructor(
    readonly state: Exclude<RemoteFetchState, 'complete' | 'refused'>,
    message: string,
  ) {
    super(message);
  }
}

export type EnqueueOutcome =
  { outcome: 'queued' } | { outcome: 'present' } | { outcome: 'refused'; reason: string };

/** A lease outlives a stalled process by this much; a dead one on this host is released at start. */
const LEASE_MS = 60_000;
/** How often due jobs are looked for when nothing wakes the fetcher (another process enqueued). */
const POLL_MS = 2_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_MAX_MS = 60 * 60 * 1000;
/** Progress (chunks done, bytes fetched) is written after this many chunks or this long. */
const PROGRESS_WRITE_CHUNKS = 8;
const PROGRESS_WRITE_MS = 250;
/** Chunks no source has (404 everywhere) are asked for again this many times before giving up. */
const ABSENT_ATTEMPTS = 5;

export class RemoteContent extends WokenService {
  /** host:pid:random, so a restarted process can tell its dead predecessor's leases. */
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private pendingCount = new Map<string, number>();
  /** Whether this start's first run has released the leases of a dead predecessor. */
  private leasesReleased = false;

  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
    private readonly identity: InstanceIdentity,
    private readonly source: ChunkSource,
    private readonly limits: RemoteContentLimits,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    super('remote-content', POLL_MS, () => this.afterLeases(), onError);
  }

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  override start(): void {
    if (this.state() === 'stopped') this.leasesReleased = false;
    super.start();
  }

  /** Each start's first run releases a dead predecessor's leases before it claims any job. */
  private async afterLeases(): Promise<void> {
    if (!this.leasesReleased) {
      this.leasesReleased = true;
      await this.releaseDeadLeases().catch(this.onError);
    }
    await this.runDue();
  }

  /**
   * Records a fetch job for each content a peer announced beside an object (`{content_hash →
   * manifest}`, untrusted). Content already here is `present`; a manifest that is malformed, not
   * filed under its own hash, larger than the peer's limit or past its bytes per day is `refused`
   * and counted in the peer's health; anything else is `queued` (the peer becomes one more place its
   * chunks may come from).
   */
  async enqueue(
    peerFingerprint: string,
    manifests: Record<string, unknown>,
  ): Promise<Record<string, EnqueueOutcome>> {
    const peer = await this.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', peerFingerprint)
      .executeTakeFirst();
    const results: Record<string, EnqueueOutcome> = {};
    for (const [contentHash, raw] of Object.entries(manifests)) {
      results[contentHash] =
        peer === undefined || !peer.trusted
          ? { outcome: 'refused', reason: 'not a trusted peer' }
          : await this.enqueueOne(peer, contentHash, raw);
      const result = results[contentHash];
      if (peer !== undefined && result.outcome === 'refused')
        await this.countRefusal(peer.fingerprint, result.reason);
    }
    this.wake();
    return results;
  }

  private async enqueueOne(
    peer: PeerRow,
    contentHash: string,
    raw: unknown,
  ): Promise<EnqueueOutcome> {
    let manifest: Manifest;
    try {
      manifest = validateManifest(raw);
    } catch (error) {
      if (!(error instanceof ManifestFormatError)) throw error;
      return { outcome: 'refused', reason: `manifest of ${short(contentHash)}: ${error.message}` };
    }
    if (manifest.content_hash !== contentHash)
      return {
        outcome: 'refused',
        reason: `manifest filed under ${short(contentHash)} is not its`,
      };
    if ((await this.content.manifest(contentHash)) !== undefined) return { outcome: 'present' };

    const existing = await this.row(contentHash);
    if (existing !== undefined && existing.state !== 'refused') {
      await this.addSource(existing, peer.fingerprint);
      return { outcome: 'queued' };
    }
    const refusal = await this.overLimit(peer, manifest.size);
    if (refusal !== undefined) {
      if (existing === undefined) await this.insert(peer, manifest, 'refused', refusal);
      return { outcome: 'refused', reason: refusal };
    }
    if (existing === undefined) await this.insert(peer, manifest, 'pending', null);
    else
      await this.db
        .updateTable('remote_fetches')
        .set({
          manifest: serializeManifest(manifest),
          origin_peer: peer.fingerprint,
          source_peers: JSON.stringify([peer.fingerprint]),
          state: 'pending',
          last_error: null,
          attempts: 0,
          next_attempt_at: 0,
          created_at: Date.now(),
          updated_at: Date.now(),
        })
        .where('content_hash', '=', contentHash)
        .where('state', '=', 'refused')
        .execute();
    return { outcome: 'queued' };
  }

  /** Why the peer may not send this much now (its limits, else the instance's), if it may not. */
  private async overLimit(peer: PeerRow, size: number): Promise<string | undefined> {
    const largest = Number(peer.max_attachment_bytes ?? this.limits.maxAttachmentBytes);
    if (size > largest)
      return `an attachment of ${size} bytes is larger than the ${largest} taken from ${peer.nickname}`;
    const perDay = Number(peer.bytes_per_day ?? this.limits.bytesPerDay);
    const today = await this.db
      .selectFrom('remote_fetches')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('size'), eb.lit(0)).as('bytes'))
      .where('origin_peer', '=', peer.fingerprint)
      .where('state', '!=', 'refused')
      .where('created_at', '>', Date.now() - DAY_MS)
      .executeTakeFirstOrThrow();
    if (Number(today.bytes) + size > perDay)
      return `an attachment of ${size} bytes would pass the ${perDay} bytes a day taken from ${peer.nickname}`;
    return undefined;
  }

  private async insert(
    peer: PeerRow,
    manifest: Manifest,
    state: 'pending' | 'refused',
    lastError: string | null,
  ): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto('remote_fetches')
      .values({
        content_hash: manifest.content_hash,
        manifest: serializeManifest(manifest),
        size: manifest.size,
        origin_peer: peer.fingerprint,
        source_peers: JSON.stringify([peer.fingerprint]),
        state,
        chunks_total: manifest.chunks.length,
        last_error: lastError,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('content_hash').doNothing())
      .execute();
  }

  /** One more peer its chunks may come from; a failed fetch gets another chance with it. */
  private async addSource(row: FetchRow, peerFingerprint: string): Promise<void> {
    const sources = JSON.parse(row.source_peers) as string[];
    if (sources.includes(peerFingerprint)) return;
    await this.db
      .updateTable('remote_fetches')
      .set({
        source_peers: JSON.stringify([...sources, peerFingerprint]),
        ...(row.state === 'failed' ? { state: 'pending', attempts: 0, next_attempt_at: 0 } : {}),
        updated_at: Date.now(),
      })
      .where('content_hash', '=', row.content_hash)
      .where('source_peers', '=', row.source_peers)
      .execute();
  }

  /** A refusal of what the peer sent, in its health (peer_delivery.refused_in, last_error). */
  private async countRefusal(peerFingerprint: string, reason: string): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto('peer_delivery')
      .values({
        peer_fingerprint: peerFingerprint,
        refused_in: 1,
        last_error: reason,
        last_error_at: now,
      })
      .onConflict((oc) =>
        oc.column('peer_fingerprint').doUpdateSet({
          refused_in: sql<number>`peer_delivery.refused_in + 1`,
          last_error: reason,
          last_error_at: now,
        }),
      )
      .execute();
  }

  private row(contentHash: string): Promise<FetchRow | undefined> {
    return this.db
      .selectFrom('remote_fetches')
      .selectAll()
      .where('content_hash', '=', contentHash)
      .executeTakeFirst();
  }

  /** What a reader sees of the content: complete, or how far its fetch has come and why not further. */
  stateOf(contentHash: string): Promise<ContentState> {
    return this.content.stateOf(contentHash);
  }

  /** Chunks still to fetch of content this peer announced (for its health). */
  async pendingChunkFetches(peerFingerprint: string): Promise<number> {
    const row = await this.db
      .selectFrom('remote_fetches')
      .select((eb) =>
        eb.fn
          .coalesce(eb.fn.sum<number | string>(sql`chunks_total - chunks_done`), eb.lit(0))
          .as('chunks'),
      )
      .where('state', 'in', ['pending', 'unreachable'])
      // Fingerprints are hex: no LIKE wildcard can hide in one.
      .where('source_peers', 'like', `%"${peerFingerprint}"%`)
      .executeTakeFirstOrThrow();
    return Number(row.chunks);
  }

  /**
   * pendingChunkFetches as last counted (on every run of the fetcher, every 2 s at least while it
   * runs): for the health report, which is computed without waiting on the database.
   */
  pendingChunksCounted(peerFingerprint: string): number {
    return this.pendingCount.get(peerFingerprint) ?? 0;
  }

  private async countPending(): Promise<void> {
    const rows = await this.db
      .selectFrom('remote_fetches')
      .select(['source_peers', 'chunks_total', 'chunks_done'])
      .where('state', 'in', ['pending', 'unreachable'])
      .execute();
    const counts = new Map<string, number>();
    for (const row of rows)
      for (const peer of JSON.parse(row.source_peers) as string[])
        counts.set(peer, (counts.get(peer) ?? 0) + row.chunks_total - row.chunks_done);
    this.pendingCount = counts;
  }

  /** Fetches every due job, one after the other (each fetches its chunks several at once). */
  async runDue(): Promise<void> {
    await this.countPending();
    while (!this.stopping) {
      const job = await this.claim();
      if (job === undefined) return;
      await this.fetch(job);
      await this.countPending();
    }
  }

  /** Leases of processes on this host that are no longer running (a crash, SIGKILL) are released. */
  private async releaseDeadLeases(): Promise<void> {
    const held = await this.db
      .selectFrom('remote_fetches')
      .select('leased_by')
      .distinct()
      .where('leased_by', 'is not', null)
      .execute();
    for (const { leased_by: owner } of held) {
      const [host, pid] = (owner ?? '').split(':');
      if (host !== hostname() || Number(pid) === process.pid || isRunning(Number(pid))) continue;
      await this.db
        .updateTable('remote_fetches')
        .set({ leased_by: null, leased_until: null })
        .where('leased_by', '=', owner)
        .execute();
    }
  }

  private async claim(): Promise<FetchRow | undefined> {
    const now = Date.now();
    const due = await this.db
      .selectFrom('remote_fetches')
      .select('content_hash')
      .where('state', 'in', ['pending', 'unreachable'])
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
      .orderBy('created_at')
      .limit(8)
      .execute();
    for (const { content_hash: contentHash } of due) {
      const claimed = await this.db
        .updateTable('remote_fetches')
        .set({ leased_by: this.owner, leased_until: now + LEASE_MS })
        .where('content_hash', '=', contentHash)
        .where('state', 'in', ['pending', 'unreachable'])
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) return this.row(contentHash);
    }
    return undefined;
  }

  private async fetch(job: FetchRow): Promise<void> {
    try {
      const sources = await this.sourcesOf(job);
      if (sources.length === 0)
        throw new FetchStopped('failed', 'no peer that announced it is trusted any more');
      let manifest = parseManifest(job.manifest);
      if (manifest.encrypted_aes_keys[this.identity.fingerprint] === undefined) {
        manifest = await this.rekeyed(manifest, sources, job.attempts);
        await this.db
          .updateTable('remote_fetches')
          .set({ manifest: serializeManifest(manifest), updated_at: Date.now() })
          .where('content_hash', '=', job.content_hash)
          .execute();
      }
      const dek = openEnvelope(manifest, this.identity.privateKey);
      const store = await this.content.chunkStore();
      const missing: number[] = [];
      for (const [index, hash] of manifest.chunks.entries())
        if (!(await store.has(hash))) missing.push(index);
      await this.progress(job, manifest.chunks.length - missing.length);

      const stored = { chunks: 0, bytes: 0, writtenAt: Date.now() };
      try {
        await eachBounded(missing, this.limits.parallelFetches, async (index) => {
          const blob = await this.fetchChunk(manifest, dek, index, sources, job.attempts);
          await store.put(manifest.chunks[index]!, blob);
          stored.chunks += 1;
          stored.bytes += blob.length;
          if (
            stored.chunks >= PROGRESS_WRITE_CHUNKS ||
            Date.now() - stored.writtenAt >= PROGRESS_WRITE_MS
          )
            await this.chunksStored(job, stored);
        });
      } finally {
        await this.chunksStored(job, stored);
      }
      await store.flush();

      const report = await verifyContent({ store, manifest, deep: { dek } });
      if (!report.ok) {
        // Every chunk opened, yet the whole is not the content the author signed: none is kept.
        for (const hash of manifest.chunks) await store.delete(hash);
        throw new FetchStopped(
          'failed',
          `the fetched content failed verification (${report.contentHashCheck === 'mismatch' ? 'content hash mismatch' : 'chunk check'})`,
        );
      }
      await this.db.transaction().execute(async (trx) => {
        await this.content.addFetched(trx, manifest);
        await trx
          .updateTable('remote_fetches')
          .set({
            state: 'complete',
            chunks_done: manifest.chunks.length,
            last_error: null,
            leased_by: null,
            leased_until: null,
            updated_at: Date.now(),
          })
          .where('content_hash', '=', job.content_hash)
          .execute();
      });
    } catch (error) {
      if (error instanceof FetchStopped) await this.settle(job, error.state, error.message);
      else if (error instanceof BitSyncIntegrityError || error instanceof ManifestFormatError)
        await this.settle(job, 'failed', error.message);
      else {
        await this.settle(job, 'pending', 'an unexpected error; tried again later');
        throw error;
      }
    }
  }

  /** The trusted peers among those that announced the content, the first announcer first. */
  private async sourcesOf(job: FetchRow): Promise<PeerRow[]> {
    const order = JSON.parse(job.source_peers) as string[];
    const peers = await this.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', 'in', order)
      .execute();
    return order.flatMap((fingerprint) =>
      peers.filter((p) => p.fingerprint === fingerprint && Boolean(p.trusted)),
    );
  }

  /**
   * The manifest with an envelope for this instance's key, asked of each source in turn. A peer's
   * answer counts only for the same content (hash, size, chunks); its envelopes are added to ours.
   */
  private async rekeyed(
    manifest: Manifest,
    sources: PeerRow[],
    attempts: number,
  ): Promise<Manifest> {
    const problems: string[] = [];
    let reached = false;
    let refused = false;
    for (const peer of sources) {
      let answer: unknown;
      try {
        answer = await this.source.rekey(peer, manifest.content_hash);
        reached = true;
      } catch (error) {
        if (!(error instanceof PeerUnreachableError)) throw error;
        problems.push(`${peer.nickname}: ${error.message}`);
        continue;
      }
      if (answer === undefined) {
        problems.push(`${peer.nickname} cannot re-key it`);
        continue;
      }
      const given = validateManifestOrUndefined(answer);
      if (
        given === undefined ||
        given.content_hash !== manifest.content_hash ||
        given.size !== manifest.size ||
        given.chunks.join() !== manifest.chunks.join() ||
        given.encrypted_aes_keys[this.identity.fingerprint] === undefined
      ) {
        problems.push(`${peer.nickname} answered a re-key with another manifest`);
        refused = true;
        await this.countRefusal(
          peer.fingerprint,
          `re-key of ${short(manifest.content_hash)}: another manifest`,
        );
        continue;
      }
      return {
        ...manifest,
        encrypted_aes_keys: { ...given.encrypted_aes_keys, ...manifest.encrypted_aes_keys },
      };
    }
    // A relaying peer may not hold the content yet itself (it is still fetching it): asked again
    // later, as for a chunk nobody has, before giving up.
    const state = refused
      ? 'failed'
      : !reached
        ? 'unreachable'
        : attempts + 1 >= ABSENT_ATTEMPTS
          ? 'failed'
          : 'pending';
    throw new FetchStopped(state, `no envelope for this instance's key (${problems.join('; ')})`);
  }

  /**
   * Chunk `index`, from the first source that has a blob passing its checks (hash, length, GCM tag
   * under the content's additional data). A blob failing them is never stored and counts as a
   * refusal in that peer's health.
   */
  private async fetchChunk(
    manifest: Manifest,
    dek: Buffer,
    index: number,
    sources: PeerRow[],
    attempts: number,
  ): Promise<Buffer> {
    const hash = manifest.chunks[index]!;
    const unreachable: string[] = [];
    const refused: string[] = [];
    for (const peer of sources) {
      let blob: Buffer | undefined;
      try {
        blob = await this.source.chunk(peer, hash);
      } catch (error) {
        if (!(error instanceof PeerUnreachableError)) throw error;
        unreachable.push(`${peer.nickname} unreachable: ${error.message}`);
        continue;
      }
      if (blob === undefined) continue;
      try {
        // The check takes its buffer over; the blob itself is what gets stored.
        await openChunk(
          dek,
          manifest.content_hash,
          manifest.size,
          { index, hash },
          Buffer.from(blob),
        );
        return blob;
      } catch (error) {
        if (!(error instanceof BitSyncIntegrityError)) throw error;
        const reason = `chunk ${index} from ${peer.nickname} failed verification (${error.reason.replaceAll('_', ' ')})`;
        refused.push(reason);
        await this.countRefusal(peer.fingerprint, reason);
      }
    }
    if (refused.length > 0) throw new FetchStopped('failed', refused[0]!);
    if (unreachable.length === sources.length)
      throw new FetchStopped('unreachable', unreachable.join('; '));
    const none = `no peer has chunk ${index} (${[...unreachable, 'the others answered 404'].join('; ')})`;
    throw new FetchStopped(attempts + 1 >= ABSENT_ATTEMPTS ? 'failed' : 'pending', none);
  }

  private async progress(job: FetchRow, chunksDone: number): Promise<void> {
    await this.db
      .updateTable('remote_fetches')
      .set({ chunks_done: chunksDone, leased_until: Date.now() + LEASE_MS, updated_at: Date.now() })
      .where('content_hash', '=', job.content_hash)
      .where('leased_by', '=', this.owner)
      .execute();
  }

  /** Counts the chunks stored since the last count (a disk sync per few chunks, not per chunk). */
  private async chunksStored(
    job: FetchRow,
    stored: { chunks: number; bytes: number; writtenAt: number },
  ): Promise<void> {
    const { chunks, bytes } = stored;
    if (chunks === 0) return;
    stored.chunks = 0;
    stored.bytes = 0;
    stored.writtenAt = Date.now();
    await this.db
      .updateTable('remote_fetches')
      .set({
        chunks_done: sql<number>`chunks_done + ${chunks}`,
        bytes_fetched: sql<number>`bytes_fetched + ${bytes}`,
        leased_until: Date.now() + LEASE_MS,
        updated_at: Date.now(),
      })
      .where('content_hash', '=', job.content_hash)
      .where('leased_by', '=', this.owner)
      .execute();
  }

  /** Ends this run of the job: failed for good, or due again after a backoff with jitter. */
  private async settle(
    job: FetchRow,
    state: Exclude<RemoteFetchState, 'complete' | 'refused'>,
    lastError: string,
  ): Promise<void> {
    const attempts = job.attempts + 1;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempts - 1, 20));
    await this.db
      .updateTable('remote_fetches')
      .set({
        state,
        last_error: lastError,
        attempts,
        next_attempt_at: Date.now() + Math.round(backoff * (0.5 + Math.random() / 2)),
        leased_by: null,
        leased_until: null,
        updated_at: Date.now(),
      })
      .where('content_hash', '=', job.content_hash)
      .where('leased_by', '=', this.owner)
      .execute();
  }
}

/**
 * For the federation inbox: records fetch jobs for the manifests that came beside a peer's object
 * (see RemoteContent.enqueue); the fetch itself runs in the background.
 */
export function enqueueRemoteContent(
  ctx: AppContext,
  peerFingerprint: string,
  manifests: Record<string, unknown>,
): Promise<Record<string, EnqueueOutcome>> {
  return ctx.remoteContent.enqueue(peerFingerprint, manifests);
}

/** For the peer's health: chunks still to fetch of content it announced. */
export function pendingChunkFetches(ctx: AppContext, peerFingerprint: string): Promise<number> {
  return ctx.remoteContent.pendingChunkFetches(peerFingerprint);
}

function validateManifestOrUndefined(value: unknown): Manifest | undefined {
  try {
    return validateManifest(value);
  } catch (error) {
    if (error instanceof ManifestFormatError) return undefined;
    throw error;
  }
}

const short = (hash: string) => hash.slice(0, 12);

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `task` for each item, at most `limit` at once. After the first failure no new task starts;
 * the ones running are awaited, then that failure is thrown.
 */
async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
