// The one entry point of the fast delivery path. Writers announce on typed channels: inside their
// transaction for other processes (sent only if it commits), then in this process once committed,
// with the committed event itself when there is one. An event received from a federation peer is
// stored by its own transaction and handed to publishEvent exactly like one posted here. Readers
// wait through it too: parked long polls, SSE streams (sse.ts) and presence; and the answers many
// readers share are cached here, dropped when their channel changes (answer-cache.ts).
import type { QueryExecutorProvider } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { notifyOtherProcesses, type EventHub, type Listener } from '../../services/event-hub.js';
import {
  PAGE_CACHE_MAX_BYTES,
  PAGE_CACHE_TTL_MS,
  PageCache,
  SharedAnswers,
} from './answer-cache.js';
import { channelName, type Channel } from './channels.js';
import type { RealtimeConnections } from './connections.js';
import { PostedEvent, type BoardEvent } from './events.js';
import { LongPolls } from './long-polls.js';
import { Presence } from './presence.js';

export interface RealtimeParts {
  connections: RealtimeConnections;
  /** The users who ignore a key (accounts' ignore lists). */
  ignorersOf: (fingerprint: string) => Promise<ReadonlySet<string>>;
  /** Failures after a commit that must not fail the writer (logged by the caller). */
  onError: (error: unknown) => void;
  /** The bound of the board page cache (AXON_PAGE_CACHE_BYTES). */
  pageCacheBytes?: number;
}

export class Realtime {
  readonly connections: RealtimeConnections;
  readonly longPolls: LongPolls;
  readonly presence: Presence;
  /** Boards' first pages, shared by every reader; dropped when their board changes. */
  readonly pages: PageCache;
  /** Each read's JSON answer per time zone, serialised once for every waiter it goes to. */
  readonly eventAnswers = new SharedAnswers<readonly BoardEvent[], Buffer>();

  constructor(
    readonly hub: EventHub,
    private readonly database: AxonDatabase,
    private readonly parts: RealtimeParts,
  ) {
    this.connections = parts.connections;
    this.longPolls = new LongPolls((channel, listener) => this.subscribe(channel, listener));
    this.presence = new Presence(database);
    this.pages = new PageCache(PAGE_CACHE_TTL_MS, parts.pageCacheBytes ?? PAGE_CACHE_MAX_BYTES);
    this.pages.watch(hub);
  }

  /** Inside the writing transaction: other processes hear of it only if it commits. */
  notifyInTransaction(trx: QueryExecutorProvider, channel: Channel, seq: number): Promise<void> {
    return notifyOtherProcesses(trx, this.database.dialect, channelName(channel), seq);
  }

  /** After the commit: wakes this process's waiters on the channel. */
  publish(channel: Channel, seq: number, payload?: unknown): void {
    this.hub.publish(channelName(channel), seq, payload);
  }

  /**
   * A committed event on its board's bus, posted here or received from a peer: its waiters here
   * get it without reading it back, except those who ignore its author (looked up here, once per
   * event, and only when someone waits); they read it, filtered, from the database. Never throws:
   * the event is committed whatever happens here.
   */
  async publishEvent(event: BoardEvent): Promise<void> {
    const channel = { kind: 'board', boardId: event.boardId } as const;
    if (!this.hasListeners(channel)) {
      this.publish(channel, event.cursor);
      return;
    }
    let ignoredBy: ReadonlySet<string>;
    try {
      ignoredBy = await this.parts.ignorersOf(event.author.fingerprint);
    } catch (error) {
      this.parts.onError(error);
      // Without the hand-over every waiter reads the event from the database, filtered.
      this.publish(channel, event.cursor);
      return;
    }
    this.publish(channel, event.cursor, new PostedEvent(event, ignoredBy));
  }

  /** A change outside any transaction (a logout, a ban already committed): everyone hears it. */
  async announce(channel: Channel, seq = 0): Promise<void> {
    await this.notifyInTransaction(this.database.db, channel, seq);
    this.publish(channel, seq);
  }

  /** True when someone in this process waits on the channel (so a payload is worth making). */
  hasListeners(channel: Channel): boolean {
    return this.hub.hasListeners(channelName(channel));
  }

  subscribe(channel: Channel, listener: Listener): () => void {
    return this.hub.subscribe(channelName(channel), listener);
  }

  /** Resolves when the channel announces a number above `after` (subscribe before reading). */
  waitBeyond(channel: Channel, after: number): { promise: Promise<unknown>; cancel: () => void } {
    return this.hub.waitBeyond(channelName(channel), after);
  }
}
