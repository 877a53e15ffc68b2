// Delivery (DESIGN.md §7): per trusted peer sharing a board, push the log entries after the
// peer's acknowledged seq to its inbox, several batches in flight, and pull from the peer's sync
// endpoint when it returns. One process per peer at a time (a lease in peer_delivery); woken by
// every log append (the event hub, PostgreSQL NOTIFY across processes), never by a polling timer.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, PeerRow } from '../../db/schema.js';
import type { BackgroundService, ServiceState } from '../../services/registry.js';
import { parseChannel } from '../realtime/channels.js';
import type { Realtime } from '../realtime/realtime.js';
import { RoutingSchema, type Inbox, type ObjectResult } from './inbox.js';
import { routingOf, sharedBoardsOf, type FederationLog, type LogEntry } from './log.js';

/** What delivery needs of the federation client (src/server/modules/federation/client.ts). */
export interface PeerClient {
  request(
    peer: PeerRow,
    request: { method: 'GET' | 'POST'; path: string; body?: unknown; maxBytes?: number },
  ): Promise<{ status: number; body: Buffer; json<T>(): T }>;
}

export interface DeliveryOptions {
  /** Batches in flight per peer (AXON_FEDERATION_IN_FLIGHT). */
  inFlight: number;
  /** Objects and bytes in one batch (at least one object whatever its size). */
  batchObjects: number;
  batchBytes: number;
}

export const INBOX_PATH = '/api/federation/inbox/';
export const SYNC_PATH = '/api/federation/sync/';
const PING_PATH = '/api/federation/ping/';

/** A lease lasts this long; its holder renews it at a third of that. */
const LEASE_MS = 30_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 5 * 60_000;
/** After this many failures in a row the peer counts as dead: probed by ping before pushing. */
const DEAD_AFTER = 3;
/** Skipped log entries (nothing for the peer) are written to its cursor after this many. */
const SKIP_WRITE_ENTRIES = 1000;
/** Largest answer read from a peer: an inbox answer or a sync page. */
export const ANSWER_LIMIT = 8 * 1024 * 1024;

/** A peer asked us to slow down (429 past its limit for us, 503 busy): wait, it is no failure. */
export class ThrottledError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    /** The most objects the peer takes in a minute, when it said. */
    readonly objectsPerMinute: number | undefined,
  ) {
    super(message);
    this.name = 'ThrottledError';
  }
}

/** How long a throttled deliverer sends one small batch at a time, past the peer's Retry-After. */
const THROTTLED_MS = 60_000;

/** Exponential backoff with full jitter between half and all of the step. */
export function backoffMs(failures: number, random = Math.random): number {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
  return Math.round(step / 2 + (random() * step) / 2);
}

interface Envelope<T> {
  success: boolean;
  data: T;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

/** An answer that was not a success, as an error: throttling (429, 503) apart from failures. */
function refusal(what: string, status: number, envelope: Envelope<unknown>): Error {
  const error = envelope.error;
  const text = `${what} answered ${status}${error ? ` ${error.code}: ${error.message}` : ''}`;
  if (status !== 429 && status !== 503) return new Error(text);
  // The details are inside the signed body (a Retry-After header is not signed).
  const seconds = Number(error?.details?.retry_after_seconds);
  const limit = Number(error?.details?.objects_per_minute);
  return new ThrottledError(
    text,
    Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : 2000,
    Number.isInteger(limit) && limit > 0 ? limit : undefined,
  );
}

/** The manifests of a page of entries, merged (they travel beside the objects). */
export function manifestsOf(entries: readonly LogEntry[]): Record<string, unknown> {
  return Object.assign({}, ...entries.map((e) => e.manifests ?? {})) as Record<string, unknown>;
}

/** The delivery service: one PeerDelivery per trusted peer that shares a board with us. */
export class FederationDelivery implements BackgroundService {
  readonly name = 'federation-delivery';
  private readonly processId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly peers = new Map<string, PeerDelivery>();
  private status: ServiceState = 'stopped';
  private unsubscribe: (() => void) | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly log: FederationLog,
    private readonly inbox: Inbox,
    private readonly realtime: Realtime,
    private readonly client: PeerClient,
    private readonly options: DeliveryOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.status !== 'stopped') return;
    this.status = 'running';
    // A log append (here or, through NOTIFY, in another process) wakes every peer's pusher; a
    // board or peer change may add or drop peers.
    this.unsubscribe = this.realtime.hub.watchAll((name, seq) => {
      const kind = parseChannel(name)?.kind;
      // '*': the hub lost its LISTEN connection and may have missed announcements.
      if (kind === 'federation' || name === '*') {
        for (const p of this.peers.values()) p.wake();
      }
      // Number 0: a board changed, or its sharing did (new peers, rewound cursors).
      if (seq === 0 && (kind === 'federation' || kind === 'board')) this.refresh();
    });
    this.renewTimer = setInterval(() => this.refresh(), LEASE_MS / 3);
    this.renewTimer.unref();
    this.refresh();
  }

  async stop(): Promise<void> {
    this.status = 'stopped';
    this.unsubscribe?.();
    clearInterval(this.renewTimer);
    await this.refreshing;
    await Promise.all([...this.peers.values()].map((p) => p.stop()));
    this.peers.clear();
  }

  state(): ServiceState {
    return this.status;
  }

  /** The peer deliverers, for tests and health. */
  deliverers(): ReadonlyMap<string, PeerDelivery> {
    return this.peers;
  }

  /** Re-reads the trusted peers sharing a board, renews leases; never runs twice at once. */
  refresh(): void {
    if (this.status === 'stopped' || this.refreshing !== undefined) return;
    this.refreshing = this.reconcile()
      .catch((error: unknown) => this.onError(error))
      .finally(() => (this.refreshing = undefined));
  }

  private async reconcile(): Promise<void> {
    const rows = await this.database.db
      .selectFrom('peers')
      .selectAll()
      .where('trusted', '=', true)
      .execute();
    const wanted = new Map<string, PeerRow>();
    for (const row of rows) {
      if ((await sharedBoardsOf(this.database.db, row.fingerprint)).length > 0) {
        wanted.set(row.fingerprint, row);
      }
    }
    for (const [fingerprint, deliverer] of this.peers) {
      if (!wanted.has(fingerprint)) {
        this.peers.delete(fingerprint);
        await deliverer.stop();
      }
    }
    for (const [fingerprint, row] of wanted) {
      if (this.status === 'stopped') return;
      let deliverer = this.peers.get(fingerprint);
      if (deliverer === undefined) {
        deliverer = new PeerDelivery(
          row,
          this.database,
          this.log,
          this.inbox,
          this.client,
          this.options,
          this.processId,
          this.onError,
        );
        this.peers.set(fingerprint, deliverer);
      } else {
        deliverer.peer = row;
      }
      await deliverer.tick();
    }
  }
}

interface Batch {
  /** The seq before its first entry (the previous batch's last, or the cursor). */
  after: number;
  last: number;
  done: boolean;
}

/** Push and pull for one peer, while this process holds the peer's lease. */
export class PeerDelivery {
  private leased = false;
  /**
   * Everything at or below it is acknowledged by the peer or is nothing for it; it mirrors
   * peer_delivery.acked_seq, except for skipped entries not written yet (see moveCursor).
   */
  private acked = 0;
  /** peer_delivery.acked_seq as this deliverer last read or wrote it. */
  private stored = 0;
  private rereadCursor = false;
  /** The highest seq handed to a batch so far. */
  private sent = 0;
  private readonly batches: Batch[] = [];
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  /** Bumped on each failure: answers to batches of an older generation are ignored. */
  private generation = 0;
  private pumping = false;
  private again = false;
  private pulling: Promise<void> | undefined;
  private stopped = false;
  private readonly work = new Set<Promise<unknown>>();
  /** Until then the peer throttles us: one batch at a time, of at most `throttledBatch` objects. */
  private throttledUntil = 0;
  private throttledBatch: number | undefined;

  constructor(
    public peer: PeerRow,
    private readonly database: AxonDatabase,
    private readonly log: FederationLog,
    private readonly inbox: Inbox,
    private readonly client: PeerClient,
    private readonly options: DeliveryOptions,
    private readonly processId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Whether this process delivers to the peer now. */
  holdsLease(): boolean {
    return this.leased;
  }

  /** Renews (or takes) the lease; on taking it, reads the cursor, pulls, then pushes. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    const had = this.leased;
    this.leased = await this.takeLease();
    if (this.leased && !had) {
      const row = await this.db
        .selectFrom('peer_delivery')
        .select(['acked_seq', 'failures'])
        .where('peer_fingerprint', '=', this.peer.fingerprint)
        .executeTakeFirstOrThrow();
      this.acked = Number(row.acked_seq);
      this.stored = this.acked;
      this.sent = this.acked;
      this.pull();
    }
    // A board's sharing may have changed (a backfill rewinds the written cursor only): the next
    // read starts from the written cursor, not from skips kept in memory.
    this.rereadCursor = true;
    if (this.leased) this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.work, this.pulling]);
    if (this.leased) {
      await this.db
        .updateTable('peer_delivery')
        .set({ leased_by: null, leased_until: null })
        .where('peer_fingerprint', '=', this.peer.fingerprint)
        .where('leased_by', '=', this.processId)
        .execute();
    }
  }

  private async takeLease(): Promise<boolean> {
    const now = Date.now();
    await this.db
      .insertInto('peer_delivery')
      .values({ peer_fingerprint: this.peer.fingerprint })
      .onConflict((oc) => oc.column('peer_fingerprint').doNothing())
      .execute();
    // SQLite serves one process: the lease would only make a restart after a crash wait for it.
    if (this.database.dialect === 'sqlite') return true;
    // One statement: of several processes racing for an expired lease, one row update wins.
    const result = await this.db
      .updateTable('peer_delivery')
      .set({ leased_by: this.processId, leased_until: now + LEASE_MS })
      .where('peer_fingerprint', '=', this.peer.fingerprint)
      .where((eb) =>
        eb.or([
          eb('leased_by', 'is', null),
          eb('leased_by', '=', this.processId),
          eb('leased_until', '<', now),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Something new may be in the log: push it now, unless the peer is in backoff. */
  wake(): void {
    if (this.stopped || !this.leased || this.retryTimer !== undefined) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.track(
      this.pump()
        .catch((error: unknown) => this.fail(error))
        .finally(() => {
          this.pumping = false;
          if (this.again) {
            this.again = false;
            this.wake();
          }
        }),
    );
  }

  private track(promise: Promise<unknown>): void {
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise));
  }

  private async pump(): Promise<void> {
    if (this.failures >= DEAD_AFTER) {
      // A dead peer gets one cheap probe per backoff step, not a flood of batches.
      const pong = await this.client.request(this.peer, {
        method: 'GET',
        path: PING_PATH,
        maxBytes: 64 * 1024,
      });
      if (pong.status !== 200) throw new Error(`ping answered ${pong.status}`);
      this.recovered();
    }
    const throttled = Date.now() < this.throttledUntil;
    const inFlight = throttled ? 1 : this.options.inFlight;
    const batchObjects = Math.min(
      this.options.batchObjects,
      (throttled ? this.throttledBatch : undefined) ?? Infinity,
    );
    while (!this.stopped && this.batches.length < inFlight) {
      if (this.batches.length === 0) {
        // Nothing in flight: the peer's pull may have moved the cursor on, a backfill back.
        const row = await this.db
          .selectFrom('peer_delivery')
          .select('acked_seq')
          .where('peer_fingerprint', '=', this.peer.fingerprint)
          .executeTakeFirst();
        const stored = Number(row?.acked_seq ?? 0);
        // Unchanged since we read or wrote it: our cursor may be further on, over skipped entries.
        if (stored !== this.stored || this.rereadCursor) this.acked = stored;
        this.stored = stored;
        this.rereadCursor = false;
        this.sent = this.acked;
      }
      const page = await this.log.readForPeer(this.peer.fingerprint, this.sent, {
        limit: batchObjects,
        maxBytes: this.options.batchBytes,
      });
      if (page.last <= this.sent) return;
      const batch: Batch = { after: this.sent, last: page.last, done: false };
      this.sent = page.last;
      this.batches.push(batch);
      if (page.entries.length === 0) {
        // Up to the log's head nothing is for this peer (what it sent us, other boards): the
        // cursor moves over it without a call, so the next read does not scan it again.
        batch.done = true;
        if (this.batches.length === 1) await this.moveCursor();
        return;
      }
      this.track(this.send(batch, page.entries, this.generation));
    }
  }

  private async send(batch: Batch, entries: LogEntry[], generation: number): Promise<void> {
    const bytes = entries.reduce((n, e) => n + e.size, 0);
    let results: ObjectResult[];
    try {
      const answer = await this.client.request(this.peer, {
        method: 'POST',
        path: INBOX_PATH,
        body: {
          objects: entries.map((e) => e.object),
          manifests: manifestsOf(entries),
          routing: routingOf(entries),
          position: { after: String(batch.after), last: String(batch.last) },
        },
        maxBytes: ANSWER_LIMIT,
      });
      const envelope = answer.json<Envelope<{ results: ObjectResult[] }>>();
      if (answer.status !== 200 || !envelope.success)
        throw refusal('inbox', answer.status, envelope);
      results = envelope.data.results;
      if (results.length !== entries.length) throw new Error('inbox answered for other objects');
    } catch (error) {
      if (generation === this.generation) this.fail(error);
      return;
    }
    if (generation !== this.generation || this.stopped) return;
    batch.done = true;
    const refusedCount = results.filter((r) => r.status === 'refused').length;
    await this.acknowledge(entries.length, bytes, refusedCount);
    if (this.failures > 0) this.recovered();
    this.wake();
  }

  /** The cursor after the contiguous prefix of answered (or skipped) batches. */
  private donePrefix(): number {
    let acked = this.acked;
    for (const batch of this.batches) {
      if (!batch.done) break;
      acked = batch.last;
    }
    return acked;
  }

  /** Drops the answered batches up to `acked`, once it is written. */
  private settle(acked: number): void {
    // Only once it is written: the pump reads the cursor back when nothing is in flight.
    while (this.batches[0]?.done === true && this.batches[0].last <= acked) this.batches.shift();
    this.acked = Math.max(this.acked, acked);
  }

  /**
   * Advances the cursor over skipped entries only: no call was made, so nothing is counted. It is
   * written every SKIP_WRITE_ENTRIES entries (a receiver skips after each object it relays): after
   * a restart at most that many are scanned again.
   */
  private async moveCursor(): Promise<void> {
    const acked = this.donePrefix();
    if (acked - this.stored < SKIP_WRITE_ENTRIES) {
      this.settle(acked);
      return;
    }
    await this.db
      .updateTable('peer_delivery')
      .set({ acked_seq: acked })
      .where('peer_fingerprint', '=', this.peer.fingerprint)
      .where('acked_seq', '<', acked)
      .execute();
    this.stored = acked;
    this.settle(acked);
  }

  /** Advances the cursor over the contiguous prefix of answered batches, and counts them. */
  private async acknowledge(objects: number, bytes: number, refusedCount: number): Promise<void> {
    const acked = this.donePrefix();
    const now = Date.now();
    await this.db
      .updateTable('peer_delivery')
      .set((eb) => ({
        acked_seq: acked,
        objects_out: eb('objects_out', '+', objects),
        bytes_out: eb('bytes_out', '+', bytes),
        last_success_at: now,
        failures: 0,
        next_attempt_at: 0,
        ...(refusedCount > 0
          ? { last_error_at: now, last_error: `${refusedCount} object(s) refused by the peer` }
          : {}),
      }))
      .where('peer_fingerprint', '=', this.peer.fingerprint)
      .where('acked_seq', '<=', acked)
      .execute();
    this.stored = acked;
    this.settle(acked);
  }

  /** The peer answered again after failures: catch up from it by pull too. */
  private recovered(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.pull();
  }

  /** A failed call: drop what was in flight, resend from the cursor after a jittered backoff. */
  private fail(error: unknown): void {
    if (this.stopped) return;
    this.generation += 1;
    this.batches.length = 0;
    this.sent = this.acked;
    const throttled = error instanceof ThrottledError;
    let delay: number;
    if (throttled) {
      // Not a failure: the peer is up and said when. Resend from the cursor then, one batch at a
      // time (small enough for its limit) until a window passes without being throttled.
      delay = error.retryAfterMs + Math.round(Math.random() * 500);
      this.throttledUntil = Date.now() + delay + THROTTLED_MS;
      this.throttledBatch = error.objectsPerMinute ?? this.throttledBatch;
    } else {
      this.failures += 1;
      delay = backoffMs(this.failures);
    }
    this.retryAt = Date.now() + delay;
    const message = error instanceof Error ? error.message : String(error);
    this.track(
      this.db
        .updateTable('peer_delivery')
        .set({
          failures: this.failures,
          next_attempt_at: this.retryAt,
          last_error_at: Date.now(),
          last_error: (throttled ? `throttled by the peer: ${message}` : message).slice(0, 500),
        })
        .where('peer_fingerprint', '=', this.peer.fingerprint)
        .execute()
        .catch(this.onError),
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, delay);
    this.retryTimer.unref();
  }

  /** Pulls from the peer's sync endpoint from our cursor there until it has nothing more. */
  pull(): void {
    if (this.pulling !== undefined || this.stopped) return;
    this.pulling = this.pullAll()
      .catch((error: unknown) => this.onError(error))
      .finally(() => (this.pulling = undefined));
  }

  private async pullAll(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const cursor = String(await this.inbox.cursorOf(this.peer.fingerprint));
      const limit = Math.min(this.options.batchObjects, this.inbox.limits.limitOf(this.peer));
      const answer = await this.client.request(this.peer, {
        method: 'GET',
        path: `${SYNC_PATH}?cursor=${encodeURIComponent(cursor)}&limit=${limit}`,
        maxBytes: ANSWER_LIMIT,
      });
      const envelope = answer.json<
        Envelope<{
          objects: unknown[];
          manifests: Record<string, unknown>;
          routing?: unknown;
          next_cursor: string;
        }>
      >();
      if (answer.status !== 200 || !envelope.success)
        throw refusal('sync', answer.status, envelope);
      const page = envelope.data;
      if (!/^\d{1,15}$/.test(page.next_cursor)) throw new Error('sync answered a bad cursor');
      const next = Number(page.next_cursor);
      // An empty page may still move the cursor over entries that are not for us.
      if (page.objects.length === 0 && next <= Number(cursor)) return;
      // Pulled objects count in the peer's objects per minute as pushed ones do: past it, stop;
      // the peer's pushes (from this cursor, throttled) bring the rest.
      if ((await this.inbox.limits.take(this.peer, page.objects.length)) !== undefined) return;
      const routing = RoutingSchema.optional().safeParse(page.routing);
      if (!routing.success) throw new Error('sync answered a bad routing');
      // Pages come one after the other: each moves the pull cursor (kept by the inbox).
      const batch = { objects: page.objects, manifests: page.manifests, routing: routing.data };
      await this.inbox.applyBatch(this.peer, batch, { after: Number(cursor), last: next });
      if (page.objects.length === 0 || next <= Number(cursor)) return;
    }
  }
}
