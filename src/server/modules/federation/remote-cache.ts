// Content fetched from peers is a cache (docs/federation.md, Attachments): past a cap in bytes, for
// the whole instance and per origin peer, the least recently read remote content loses its blobs
// and its manifest row; its fetch job stays, as `evicted`, and the next reader who asks for it
// puts it back in the queue, so it is fetched again on demand. Content uploaded here is never
// evicted, nor is content still being fetched.
import { sql, type Kysely } from 'kysely';
import { parseManifest } from '../../../bitsync/index.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import type { ContentService } from '../content/service.js';
import { ByteCache } from '../../services/byte-cache.js';

export interface RemoteCacheLimits {
  /** Bytes of fetched content kept at most. */
  cacheBytes: number;
  /** Bytes of content from one origin peer kept at most. */
  cachePeerBytes: number;
}

/** Candidates are looked at this many at a time, oldest read first. */
const PAGE = 50;
/** A read is recorded at most this often per content (each stream would otherwise write). */
const READ_RESOLUTION_MS = 60_000;

export interface Evicted {
  contents: number;
  bytes: number;
}

export class RemoteCache {
  /** Contents whose read this process recorded within READ_RESOLUTION_MS (bounded in bytes). */
  private readonly noted = new ByteCache<true>({
    maxBytes: 1024 * 1024,
    ttlMs: READ_RESOLUTION_MS,
    sizeOf: () => 8,
  });

  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
    private readonly limits: RemoteCacheLimits,
    /** Called after a job was put back in the queue (wakes the fetcher). */
    private readonly queued: () => void = () => undefined,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Fetched, complete content that nobody uploaded here: what the cache may evict. */
  private evictable() {
    return this.db
      .selectFrom('remote_fetches as f')
      .where('f.state', '=', 'complete')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('attachments as a')
              .select('a.id')
              .whereRef('a.content_hash', '=', 'f.content_hash')
              .where('a.uploader_id', 'is not', null),
          ),
        ),
      );
  }

  /** Evicts the least recently read remote content until every cap holds; says how much went. */
  async evict(): Promise<Evicted> {
    const evicted: Evicted = { contents: 0, bytes: 0 };
    const perPeer = await this.evictable()
      .select(['f.origin_peer', sql<number>`sum(f.size)`.as('bytes')])
      .groupBy('f.origin_peer')
      .execute();
    for (const { origin_peer: peer, bytes } of perPeer) {
      if (Number(bytes) > this.limits.cachePeerBytes)
        await this.evictDownTo(Number(bytes), this.limits.cachePeerBytes, evicted, peer);
    }
    const { bytes: total } = await this.evictable()
      .select(sql<number>`coalesce(sum(f.size), 0)`.as('bytes'))
      .executeTakeFirstOrThrow();
    if (Number(total) > this.limits.cacheBytes)
      await this.evictDownTo(Number(total), this.limits.cacheBytes, evicted);
    return evicted;
  }

  private async evictDownTo(
    held: number,
    cap: number,
    evicted: Evicted,
    peer?: string,
  ): Promise<void> {
    while (held > cap) {
      let query = this.evictable()
        .select(['f.content_hash', 'f.size', 'f.manifest'])
        .orderBy(sql`coalesce(f.last_read_at, f.updated_at)`)
        .orderBy('f.content_hash')
        .limit(PAGE);
      if (peer !== undefined) query = query.where('f.origin_peer', '=', peer);
      const rows = await query.execute();
      if (rows.length === 0) return;
      for (const row of rows) {
        if (held <= cap) return;
        if (await this.evictOne(row.content_hash, row.manifest)) {
          held -= row.size;
          evicted.contents += 1;
          evicted.bytes += row.size;
        }
      }
    }
  }

  /** Drops one content's manifest row and blobs; false when it changed state meanwhile. */
  private async evictOne(contentHash: string, manifestJson: string): Promise<boolean> {
    const taken = await this.db.transaction().execute(async (trx) => {
      const flipped = await trx
        .updateTable('remote_fetches')
        .set({ state: 'evicted', chunks_done: 0, updated_at: Date.now() })
        .where('content_hash', '=', contentHash)
        .where('state', '=', 'complete')
        .executeTakeFirst();
      if (Number(flipped.numUpdatedRows) !== 1) return false;
      await trx.deleteFrom('manifests').where('content_hash', '=', contentHash).execute();
      await trx.deleteFrom('content_chunks').where('content_hash', '=', contentHash).execute();
      return true;
    });
    if (!taken) return false;
    // After the commit: a reader who opened it before sees its stream end with an error.
    const store = await this.content.chunkStore();
    for (const chunk of parseManifest(manifestJson).chunks) await store.delete(chunk);
    return true;
  }

  /** A reader asked for evicted content: its fetch job goes back in the queue. */
  async refetch(contentHash: string): Promise<void> {
    const requeued = await this.db
      .updateTable('remote_fetches')
      .set({
        state: 'pending',
        attempts: 0,
        next_attempt_at: 0,
        last_error: null,
        last_read_at: Date.now(),
        updated_at: Date.now(),
      })
      .where('content_hash', '=', contentHash)
      .where('state', '=', 'evicted')
      .executeTakeFirst();
    if (Number(requeued.numUpdatedRows) === 1) this.queued();
  }

  /** Records that a reader opened remote content (at most once a minute per content). */
  async noteRead(contentHash: string, now = Date.now()): Promise<void> {
    // Every stream of any content (local too) comes here: a content this process noted within the
    // minute skips the database, so a hot image costs one UPDATE a minute, not one per request.
    if (this.noted.get(contentHash, now) !== undefined) return;
    this.noted.set(contentHash, true, now);
    await this.db
      .updateTable('remote_fetches')
      .set({ last_read_at: now })
      .where('content_hash', '=', contentHash)
      .where((eb) =>
        eb.or([eb('last_read_at', 'is', null), eb('last_read_at', '<', now - READ_RESOLUTION_MS)]),
      )
      .execute();
  }
}
