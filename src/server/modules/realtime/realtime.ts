// The one entry point of the fast delivery path. Writers announce on typed channels: inside their
// transaction for other processes (sent only if it commits), then in this process once committed,
// with the committed event itself when there is one. An event received from a federation peer is
// stored by its own transaction and handed to publishEvent exactly like one posted here.
import type { QueryExecutorProvider } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { notifyOtherProcesses, type EventHub, type Listener } from '../../services/event-hub.js';
import { channelName, type Channel } from './channels.js';
import { PostedEvent, type BoardEvent } from './events.js';
import type { RealtimeConnections } from './connections.js';

export class Realtime {
  constructor(
    readonly hub: EventHub,
    private readonly database: AxonDatabase,
    readonly connections: RealtimeConnections,
  ) {}

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
   * get it without reading it back, except those in `ignoredBy` (they ignore its author).
   */
  publishEvent(event: BoardEvent, ignoredBy: ReadonlySet<string>): void {
    this.publish(
      { kind: 'board', boardId: event.boardId },
      event.cursor,
      new PostedEvent(event, ignoredBy),
    );
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
