// Limits on what one peer may make the inbox do: objects per minute (a window kept on the peer's
// delivery row, so every process sharing the database counts the same objects), and inbox requests
// per peer read and applied at once in this process (the others wait, their bodies unread).
import { sql } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { PeerRow } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';

/** The length of a rate window. */
export const RATE_WINDOW_MS = 60_000;
/**
 * Inbox requests of one peer read and applied at once, per process (each up to the body limit).
 * As many as a sender's default batches in flight: a batch holds its slot while it waits for the
 * one before it, which must find a slot of its own.
 */
export const INBOX_RUNNING_PER_PEER = 4;
/** Inbox requests of one peer waiting for a slot, bodies unread; one more is answered 503. */
export const INBOX_WAITING_PER_PEER = 16;
/** What a peer refused for concurrency is told to wait. */
const BUSY_RETRY_AFTER_S = 2;

type Limited = Pick<PeerRow, 'fingerprint' | 'objects_per_minute'>;

/** The peer's limit: its row's objects_per_minute, else the instance default. */
export function objectsPerMinuteOf(peer: Limited, fallback: number): number {
  return peer.objects_per_minute ?? fallback;
}

export class InboxLimits {
  private readonly gates = new Map<string, { active: number; line: Array<() => void> }>();

  constructor(
    private readonly database: AxonDatabase,
    /** AXON_PEER_OBJECTS_PER_MINUTE. */
    private readonly defaultObjectsPerMinute: number,
  ) {}

  /** The peer's objects per minute: its row's, else the instance default. */
  limitOf(peer: Limited): number {
    return objectsPerMinuteOf(peer, this.defaultObjectsPerMinute);
  }

  /**
   * Counts `objects` in the peer's window when they fit (a window begins at the first objects
   * after the previous one ended), in one conditional UPDATE so two processes cannot both take the
   * last room; answers how long to wait when they do not fit, or undefined when they were counted.
   */
  async take(peer: Limited, objects: number, now = Date.now()): Promise<number | undefined> {
    const limit = this.limitOf(peer);
    const db = this.database.db;
    await db
      .insertInto('peer_delivery')
      .values({ peer_fingerprint: peer.fingerprint })
      .onConflict((oc) => oc.column('peer_fingerprint').doNothing())
      .execute();
    const expired = sql<boolean>`(inbox_window_start <= ${now - RATE_WINDOW_MS})`;
    const fits = sql<boolean>`(${expired} OR inbox_window_objects <= ${limit - objects})`;
    const result =
      objects > limit
        ? { numUpdatedRows: 0n }
        : await db
            .updateTable('peer_delivery')
            .set({
              inbox_window_start: sql`CASE WHEN ${expired} THEN ${now} ELSE inbox_window_start END`,
              inbox_window_objects: sql`CASE WHEN ${expired} THEN ${objects} ELSE inbox_window_objects + ${objects} END`,
            })
            .where('peer_fingerprint', '=', peer.fingerprint)
            .where(fits)
            .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return undefined;
    const row = await db
      .selectFrom('peer_delivery')
      .select('inbox_window_start')
      .where('peer_fingerprint', '=', peer.fingerprint)
      .executeTakeFirstOrThrow();
    // A batch larger than the limit never fits: the sender must split it (details say how far).
    return Math.max(1000, Number(row.inbox_window_start) + RATE_WINDOW_MS - now);
  }

  /** take(), throwing 429 FEDERATION_RATE_LIMITED (signed details: when, and the limit) on refusal. */
  async admit(peer: Limited, objects: number): Promise<void> {
    const waitMs = await this.take(peer, objects);
    if (waitMs === undefined) return;
    const limit = this.limitOf(peer);
    const seconds = Math.ceil(waitMs / 1000);
    const message =
      objects > limit
        ? `a batch of ${objects} objects is more than this peer may send in a minute (${limit}); send at most ${limit} at once`
        : `this peer sent its ${limit} objects for this minute; retry in ${seconds} s`;
    await this.note(peer.fingerprint, `inbox throttled: ${message}`);
    throw new AppError(
      429,
      'FEDERATION_RATE_LIMITED',
      message,
      { retry_after_seconds: seconds, objects_per_minute: limit },
      { 'retry-after': String(seconds) },
    );
  }

  /**
   * Waits for one of the peer's inbox slots in this process, before its body is read; refuses
   * with 503 SERVER_BUSY when enough of its requests wait already. Returns the release.
   */
  async enter(fingerprint: string): Promise<() => void> {
    let gate = this.gates.get(fingerprint);
    if (gate === undefined) {
      gate = { active: 0, line: [] };
      this.gates.set(fingerprint, gate);
    }
    const g = gate;
    if (g.active < INBOX_RUNNING_PER_PEER) g.active++;
    else if (g.line.length >= INBOX_WAITING_PER_PEER) {
      throw new AppError(
        503,
        'SERVER_BUSY',
        `this peer has ${INBOX_RUNNING_PER_PEER} inbox requests being applied and ${INBOX_WAITING_PER_PEER} waiting; retry in ${BUSY_RETRY_AFTER_S} s`,
        { retry_after_seconds: BUSY_RETRY_AFTER_S },
        { 'retry-after': String(BUSY_RETRY_AFTER_S) },
      );
    }
    // A finishing request hands its slot to the next in line (active stays), so none slips in.
    else await new Promise<void>((resolve) => g.line.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = g.line.shift();
      if (next !== undefined) return next();
      g.active--;
      if (g.active === 0) this.gates.delete(fingerprint);
    };
  }

  /** Requests of the peer being applied now and waiting, in this process (for tests). */
  load(fingerprint: string): { running: number; waiting: number } {
    const gate = this.gates.get(fingerprint);
    return { running: gate?.active ?? 0, waiting: gate?.line.length ?? 0 };
  }

  /** Shows the refusal in the peer's health (last error), as attachment limits do. */
  private async note(fingerprint: string, error: string): Promise<void> {
    await this.database.db
      .updateTable('peer_delivery')
      .set({ last_error_at: Date.now(), last_error: error.slice(0, 500) })
      .where('peer_fingerprint', '=', fingerprint)
      .execute();
  }
}
