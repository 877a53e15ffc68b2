// Events on a board's bus as the realtime path carries them, and the committed event a writer
// hands to this process's waiters.
/** A message as an event on its board's bus (AxonChat lines, applets' events), in cursor order. */
export interface BoardEvent {
  cursor: number;
  id: string;
  boardId: string;
  /** The event's own subject (an applet's event type), else the message's subject. */
  subject: string;
  body: string;
  author: {
    fingerprint: string;
    nickname: string;
    userId: string | null;
    avatarHash: string | null;
    /** A local agent (a bot). */
    isAgent: boolean;
  };
  createdAt: number;
}

/** A read's answer: events in cursor order and where to continue from. */
export interface EventBatch {
  events: readonly BoardEvent[];
  /** Where to continue from: the last event's cursor, or the one given when nothing came. */
  nextCursor: number;
}

/**
 * What a commit hands to this process's waiters on the board (EventHub payload): the new event, as
 * a one-event page that every waiter shares (so it is serialised once), and who must not get it
 * that way because they ignore its author (they read it, filtered, from the database instead).
 */
export class PostedEvent {
  readonly page: readonly BoardEvent[];

  constructor(
    readonly event: BoardEvent,
    readonly ignoredBy: ReadonlySet<string>,
  ) {
    this.page = Object.freeze([event]);
  }

  /**
   * The page a reader who has seen everything up to `after` would read now, if this event is all
   * of it: the next cursor exactly, and a reader who does not ignore the author. Else undefined.
   */
  pageFor(after: number, readerId: string | null): readonly BoardEvent[] | undefined {
    if (this.event.cursor !== after + 1) return undefined;
    if (readerId !== null && this.ignoredBy.has(readerId)) return undefined;
    return this.page;
  }
}

/**
 * The events a waiter woken by `payload` reads next, when the payload is the whole answer (see
 * PostedEvent.pageFor); undefined when the waiter must read the database.
 */
export function handedOver(
  payload: unknown,
  after: number,
  readerId: string | null,
): readonly BoardEvent[] | undefined {
  return payload instanceof PostedEvent ? payload.pageFor(after, readerId) : undefined;
}
