// Federation health: per peer, its state and why, what waits for it in the log and what has moved
// each way, from the peers registry, the per-peer delivery counters and the federation log.
import type { Selectable } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { PeerDeliveryTable, PeersTable } from '../../db/schema.js';

export const PEER_STATES = ['healthy', 'lagging', 'dead', 'untrusted'] as const;
export type PeerState = (typeof PEER_STATES)[number];

/** Lagging: the oldest object the peer has not acknowledged is older than this… */
export const LAGGING_AFTER_SECONDS = 5 * 60;
/** …or this many objects wait for it, or its last attempt failed. */
export const LAGGING_AFTER_OBJECTS = 1000;
/** Dead: failing (the last error is newer than the last success) this many times in a row… */
export const DEAD_AFTER_FAILURES = 5;
/** …or failing with no success for this long (counted from its addition when it never answered). */
export const DEAD_AFTER_SECONDS = 15 * 60;

type PeerRow = Selectable<PeersTable>;

/** How long the /api/health summary is reused. */
export const SUMMARY_MAX_AGE_MS = 5000;
type DeliveryRow = Selectable<PeerDeliveryTable>;

export interface PeerHealthReport {
  state: PeerState;
  /** Why the peer is in that state, in words for the sysop. */
  reason: string;
  last_success_at: number | null;
  last_error_at: number | null;
  last_error: string | null;
  consecutive_failures: number;
  /** Log entries after the acknowledged cursor the peer may see (its shared boards' rooms). */
  queue_length: number;
  oldest_undelivered_at: number | null;
  lag_objects: number;
  lag_seconds: number;
  objects_out: number;
  bytes_out: number;
  objects_in: number;
  bytes_in: number;
  refused_in: number;
  chunk_fetches_pending: number;
}

/** How many chunk fetches wait on a peer; the remote content fetcher (fed-attach) provides it. */
export type ChunkFetchesPending = (peerFingerprint: string) => number;

export type StateSummary = Record<PeerState, number> & { peers: number };

export class FederationHealth {
  private chunkFetches: ChunkFetchesPending = () => 0;
  private lastSummary: { at: number; value: Promise<StateSummary> } | undefined;

  constructor(private readonly database: AxonDatabase) {}

  /** Lets the remote content fetcher report the chunk fetches pending per peer. */
  setChunkFetchesSource(source: ChunkFetchesPending): void {
    this.chunkFetches = source;
  }

  /** Health of each given peer, keyed by fingerprint. */
  async of(peers: readonly PeerRow[], now = Date.now()): Promise<Map<string, PeerHealthReport>> {
    const reports = new Map<string, PeerHealthReport>();
    if (peers.length === 0) return reports;
    const db = this.database.db;
    const [deliveries, boards] = await Promise.all([
      db
        .selectFrom('peer_delivery')
        .selectAll()
        .where(
          'peer_fingerprint',
          'in',
          peers.map((p) => p.fingerprint),
        )
        .execute(),
      db
        .selectFrom('boards')
        .select(['federation_room_id', 'trusted_peers'])
        .where('federation_room_id', 'is not', null)
        .execute(),
    ]);
    const deliveryOf = new Map(deliveries.map((d) => [d.peer_fingerprint, d]));
    for (const peer of peers) {
      const rooms = boards
        .filter((b) => (JSON.parse(b.trusted_peers) as string[]).includes(peer.fingerprint))
        .map((b) => b.federation_room_id!);
      const delivery = deliveryOf.get(peer.fingerprint);
      const queue = await this.queueOf(peer.fingerprint, delivery?.acked_seq ?? 0, rooms);
      reports.set(peer.fingerprint, this.report(peer, delivery, queue, now));
    }
    return reports;
  }

  /**
   * The summary as of at most SUMMARY_MAX_AGE_MS ago: /api/health answers anyone, so its callers
   * share one read of the registry and the log instead of each causing one.
   */
  recentSummary(peers: () => Promise<PeerRow[]>, now = Date.now()): Promise<StateSummary> {
    if (this.lastSummary === undefined || now - this.lastSummary.at >= SUMMARY_MAX_AGE_MS) {
      const value = peers().then((rows) => this.summary(rows, now));
      this.lastSummary = { at: now, value };
      // A failed read is not kept: the next caller tries again.
      value.catch(() => {
        if (this.lastSummary?.value === value) this.lastSummary = undefined;
      });
    }
    return this.lastSummary.value;
  }

  /** How many peers are in each state (what /api/health shows anyone). */
  async summary(peers: readonly PeerRow[], now = Date.now()): Promise<StateSummary> {
    const counts: StateSummary = {
      peers: peers.length,
      healthy: 0,
      lagging: 0,
      dead: 0,
      untrusted: 0,
    };
    for (const report of (await this.of(peers, now)).values()) counts[report.state]++;
    return counts;
  }

  private async queueOf(
    fingerprint: string,
    ackedSeq: number,
    rooms: string[],
  ): Promise<{ length: number; oldest: number | null }> {
    if (rooms.length === 0) return { length: 0, oldest: null };
    // What the peer sent itself is not due back to it.
    const row = await this.database.db
      .selectFrom('federation_log')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .where('seq', '>', ackedSeq)
      .where('room_id', 'in', rooms)
      .where((eb) =>
        eb.or([eb('received_from', 'is', null), eb('received_from', '!=', fingerprint)]),
      )
      .executeTakeFirstOrThrow();
    return {
      length: Number(row.n),
      oldest: row.oldest === null ? null : Number(row.oldest),
    };
  }

  private report(
    peer: PeerRow,
    delivery: DeliveryRow | undefined,
    queue: { length: number; oldest: number | null },
    now: number,
  ): PeerHealthReport {
    const lastSuccess = delivery?.last_success_at ?? null;
    const lastError = delivery?.last_error_at ?? null;
    const failures = delivery?.failures ?? 0;
    const lagSeconds =
      queue.oldest === null ? 0 : Math.max(0, Math.round((now - queue.oldest) / 1000));
    const base = {
      last_success_at: lastSuccess,
      last_error_at: lastError,
      last_error: delivery?.last_error ?? null,
      consecutive_failures: failures,
      queue_length: queue.length,
      oldest_undelivered_at: queue.oldest,
      lag_objects: queue.length,
      lag_seconds: lagSeconds,
      objects_out: delivery?.objects_out ?? 0,
      bytes_out: delivery?.bytes_out ?? 0,
      objects_in: delivery?.objects_in ?? 0,
      bytes_in: delivery?.bytes_in ?? 0,
      refused_in: delivery?.refused_in ?? 0,
      chunk_fetches_pending: this.chunkFetches(peer.fingerprint),
    };
    return { ...base, ...stateOf(peer, base, now) };
  }
}

/** The state rules (docs/federation.md, "Peers and health"), first match wins. */
export function stateOf(
  peer: Pick<PeerRow, 'trusted' | 'pending_fingerprint' | 'created_at'>,
  h: Pick<
    PeerHealthReport,
    | 'last_success_at'
    | 'last_error_at'
    | 'last_error'
    | 'consecutive_failures'
    | 'lag_objects'
    | 'lag_seconds'
  >,
  now: number,
): { state: PeerState; reason: string } {
  if (peer.pending_fingerprint !== null)
    return {
      state: 'untrusted',
      reason: 'its key changed: a sysop must accept the new fingerprint',
    };
  if (!peer.trusted) return { state: 'untrusted', reason: 'a sysop has not trusted it' };
  const failing =
    h.last_error_at !== null && (h.last_success_at === null || h.last_error_at > h.last_success_at);
  const silentFor = (now - (h.last_success_at ?? peer.created_at)) / 1000;
  if (failing && (h.consecutive_failures >= DEAD_AFTER_FAILURES || silentFor >= DEAD_AFTER_SECONDS))
    return {
      state: 'dead',
      reason: `${h.consecutive_failures} failed attempt(s), no success for ${Math.round(silentFor)} s: ${h.last_error ?? 'no reason given'}`,
    };
  if (failing)
    return { state: 'lagging', reason: `its last attempt failed: ${h.last_error ?? ''}` };
  if (h.lag_seconds >= LAGGING_AFTER_SECONDS)
    return {
      state: 'lagging',
      reason: `its oldest undelivered object waits for ${h.lag_seconds} s`,
    };
  if (h.lag_objects >= LAGGING_AFTER_OBJECTS)
    return { state: 'lagging', reason: `${h.lag_objects} objects wait for it` };
  return { state: 'healthy', reason: 'delivery is up to date' };
}
