// Fan-out of "something new on this channel" to waiting long polls and SSE streams. In one process
// it is a map of listeners; on PostgreSQL a LISTEN connection carries other processes' events
// (sent with pg_notify inside the writing transaction, so only committed events are announced).
// A writer in this process may hand the committed thing itself to the listeners (a payload), so a
// waiter that was exactly one behind can answer without reading it back; without a payload (another
// process's notification, wakeAll) waiters read from the database as always.
import { randomBytes } from 'node:crypto';
import { sql, type QueryExecutorProvider } from 'kysely';
import pg from 'pg';
import type { Dialect } from '../db/database.js';
import type { BackgroundService, ServiceState } from './registry.js';

export const NOTIFY_CHANNEL = 'axon_events';

export type Listener = (seq: number, payload?: unknown) => void;

/** A process-unique tag so a process can ignore the notifications it sent itself. */
export const PROCESS_TAG = randomBytes(6).toString('base64url');

export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly watchers = new Set<(channel: string, seq: number) => void>();

  publish(channel: string, seq: number, payload?: unknown): void {
    for (const listener of this.listeners.get(channel) ?? []) listener(seq, payload);
    for (const watcher of this.watchers) watcher(channel, seq);
  }

  /** True when someone in this process waits on `channel` (so a payload is worth making). */
  hasListeners(channel: string): boolean {
    return this.listeners.has(channel);
  }

  /** Hears every channel (caches that drop what changed). */
  watchAll(watcher: (channel: string, seq: number) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  subscribe(channel: string, listener: Listener): () => void {
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      // Only when this set is still the channel's: a late second unsubscribe (waitBeyond's own,
      // then cancel()) must not remove a newer set, and with it other waiters' listeners.
      if (set.size === 0 && this.listeners.get(channel) === set) this.listeners.delete(channel);
    };
  }

  /** Wakes every listener: after a lost LISTEN connection, when notifications may have been missed. */
  wakeAll(): void {
    for (const set of this.listeners.values())
      for (const listener of set) listener(Number.MAX_SAFE_INTEGER);
    for (const watcher of this.watchers) watcher('*', Number.MAX_SAFE_INTEGER);
  }

  /**
   * Resolves when `channel` announces a number above `after`, with the payload that came with it
   * (undefined when none did). Subscribe BEFORE reading the database: an event committed between
   * the read and the wait then still wakes the waiter.
   */
  waitBeyond(channel: string, after: number): { promise: Promise<unknown>; cancel: () => void } {
    let unsubscribe: () => void = () => undefined;
    const promise = new Promise<unknown>((resolve) => {
      unsubscribe = this.subscribe(channel, (seq, payload) => {
        if (seq > after) {
          unsubscribe();
          resolve(payload);
        }
      });
    });
    return { promise, cancel: () => unsubscribe() };
  }

  /** The payload a writer passes to pg_notify. */
  static payload(channel: string, seq: number): string {
    return `${PROCESS_TAG}|${channel}|${seq}`;
  }
}

/**
 * The row of `attempt_counters` whose count is the SQLite revocation generation: its window never
 * ends (so it is never reset or pruned), and each change of rights adds one.
 */
export const REVOCATION_GENERATION_KEY = 'revocation-generation';
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * Announces a change to other app processes from inside the writing transaction: PostgreSQL sends
 * the notification only if the transaction commits. On SQLite the only other process is the CLI
 * (`axon user ban`…): a change of rights (seq 0: a ban, a logout, a board's access) adds one to the
 * revocation generation in the same transaction, which the server polls (sqliteRevocationPoller).
 * The caller publishes to its own hub after the commit.
 */
export async function notifyOtherProcesses(
  trx: QueryExecutorProvider,
  dialect: Dialect,
  channel: string,
  seq: number,
): Promise<void> {
  if (dialect === 'postgres') {
    await sql`SELECT pg_notify(${NOTIFY_CHANNEL}, ${EventHub.payload(channel, seq)})`.execute(trx);
  } else if (seq === 0) {
    await sql`INSERT INTO attempt_counters (key, window_start, attempts)
      VALUES (${REVOCATION_GENERATION_KEY}, ${NEVER}, 1)
      ON CONFLICT (key) DO UPDATE SET attempts = attempt_counters.attempts + 1`.execute(trx);
  }
}

/** The SQLite revocation generation now (0 before any change). */
export async function revocationGeneration(trx: QueryExecutorProvider): Promise<number> {
  const { rows } = await sql<{ attempts: number }>`SELECT attempts FROM attempt_counters
    WHERE key = ${REVOCATION_GENERATION_KEY}`.execute(trx);
  return rows.length === 0 ? 0 : Number(rows[0]!.attempts);
}

/** LISTENs on PostgreSQL and republishes other processes' events locally; reconnects with backoff. */
export function postgresEventBridge(
  url: string,
  hub: EventHub,
  onError: (error: unknown) => void,
): BackgroundService {
  let client: pg.Client | undefined;
  let state: ServiceState = 'stopped';
  let retry: NodeJS.Timeout | undefined;
  let backoff = 250;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    client = c;
    c.on('notification', (message) => {
      const [tag, channel, seq] = (message.payload ?? '').split('|');
      if (tag === PROCESS_TAG || channel === undefined || seq === undefined) return;
      hub.publish(channel, Number(seq));
    });
    c.on('error', (error) => {
      onError(error);
      reconnect();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      state = 'running';
      backoff = 250;
      // Anything announced while we were away: let every waiter look again.
      hub.wakeAll();
    } catch (error) {
      onError(error);
      reconnect();
    }
  };

  const reconnect = () => {
    if (state === 'stopped' || retry !== undefined) return;
    state = 'failing';
    void client?.end().catch(() => undefined);
    client = undefined;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, 10_000);
  };

  return {
    name: 'realtime-bridge',
    start() {
      if (state !== 'stopped') return;
      state = 'failing';
      void connect();
    },
    async stop() {
      state = 'stopped';
      clearTimeout(retry);
      retry = undefined;
      await client?.end().catch(() => undefined);
      client = undefined;
    },
    state: () => state,
  };
}
