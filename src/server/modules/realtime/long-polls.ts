// Parked long polls: a read of a board's events that found nothing waits on the board's channel
// until an event commits, its time runs out or its connection ends. An event handed over by its
// commit in this process is the answer, given to the poll's `deliver` inside the publish itself: a
// thousand long polls are answered in one synchronous loop, the first without waiting for the
// others' turns. Any other wake-up (another process's event, a gap, a reader who ignores the
// author) reads again.
import type { Listener } from '../../services/event-hub.js';
import type { Channel } from './channels.js';
import { handedOver, type EventBatch } from './events.js';

export interface LongPoll {
  /** The board's channel. */
  channel: Channel & { kind: 'board' };
  /** The reader's cursor; undefined asks for the latest events (answered at once). */
  after: number | undefined;
  /** Who reads (a handed-over event skips the readers who ignore its author). */
  readerId: string | null;
  /** How long to wait when there is nothing new; 0 answers at once. */
  waitMs: number;
  /** Ends the wait (the connection ended): the poll answers what it has. */
  signal?: AbortSignal;
  /** One read of the events after `after` (the caller's rules: who may read, what they see). */
  read(): Promise<EventBatch>;
  /**
   * Gets the answer synchronously when it is an event handed over by its commit here, inside that
   * commit's publish, before the poll resolves with it. Must not throw; if it does, the answer is
   * only returned.
   */
  deliver?(batch: EventBatch): void;
}

type Subscribe = (channel: Channel, listener: Listener) => () => void;

export class LongPolls {
  private waiting = 0;

  constructor(private readonly subscribe: Subscribe) {}

  /** Long polls waiting for an event now (for tests and metrics). */
  get parked(): number {
    return this.waiting;
  }

  /** Reads, and with nothing new waits as the poll allows; resolves with the answer. */
  async answer(poll: LongPoll): Promise<EventBatch> {
    const deadline = Date.now() + poll.waitMs;
    const after = poll.after;
    for (;;) {
      // Subscribe first, then read: an event that commits in between still wakes us.
      const next =
        after === undefined || poll.waitMs <= 0 ? undefined : this.nextEvent(poll, after);
      const batch = await poll.read();
      const remaining = deadline - Date.now();
      if (
        batch.events.length > 0 ||
        next === undefined ||
        remaining <= 0 ||
        poll.signal?.aborted === true
      ) {
        next?.cancel();
        return batch;
      }
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      this.waiting++;
      const handed = await Promise.race([
        next.park(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), remaining);
        }),
        new Promise<undefined>((resolve) => {
          onAbort = () => resolve(undefined);
          poll.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      this.waiting--;
      clearTimeout(timer);
      if (onAbort !== undefined) poll.signal?.removeEventListener('abort', onAbort);
      next.cancel();
      if (handed !== undefined) return handed;
    }
  }

  /**
   * Waits for the channel's next event beyond `after`, subscribed from now on. Once parked (after
   * the poll's read found nothing), an event handed over by its commit is the answer: given to
   * `deliver` on the spot and resolved; any other wake-up resolves undefined (read again).
   */
  private nextEvent(
    poll: LongPoll,
    after: number,
  ): { park: () => Promise<EventBatch | undefined>; cancel: () => void } {
    let parked = false;
    let woken = false;
    let answer: EventBatch | undefined;
    let resolveParked: ((batch: EventBatch | undefined) => void) | undefined;
    const unsubscribe = this.subscribe(poll.channel, (seq, payload) => {
      if (seq <= after || woken) return;
      woken = true;
      unsubscribe();
      const events = parked ? handedOver(payload, after, poll.readerId) : undefined;
      if (events !== undefined) {
        answer = { events, nextCursor: events.at(-1)!.cursor };
        try {
          poll.deliver?.(answer);
        } catch {
          // The caller answers from the returned batch instead.
        }
      }
      resolveParked?.(answer);
    });
    return {
      park: () => {
        parked = true;
        return woken
          ? Promise.resolve(undefined)
          : new Promise((resolve) => {
              resolveParked = resolve;
            });
      },
      cancel: unsubscribe,
    };
  }
}
