// Real-time boards as event buses: AxonChat and applets' event boards. Events are messages with a
// per-board cursor in commit order; readers poll, long-poll (answered the moment an event exists)
// or stream, and resume by cursor without loss or repeats. Presence and shared room state live here.
import type { Insertable, Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema, RoomPresenceTable } from '../../db/schema.js';
import { forbidden, notFound } from '../../http/errors.js';
import { ByteCache } from '../../services/byte-cache.js';
import type { EventHub } from '../../services/event-hub.js';
import { can } from '../accounts/permissions.js';
import type { Session } from '../accounts/sessions.js';
import type { User } from '../accounts/user.js';
import type { BoardService } from '../boards/service.js';
import { boardChannel, toBoard, type Board } from '../boards/board.js';
import {
  PostedEvent,
  visibleTo,
  type BoardEvent,
  type MessageService,
} from '../boards/messages.js';

export const CHAT_BOARD_NAME = 'AxonChat';
export const MAX_EVENTS_PER_READ = 100;
/** Someone is "present" in a room when seen there this recently. */
export const PRESENCE_WINDOW_MS = 60_000;
const PRESENCE_WRITE_EVERY_MS = 10_000;
/** How often recorded presence is written (ChatService.flushPresence), and how many rows at once. */
export const PRESENCE_FLUSH_MS = 2_000;
const PRESENCE_ROWS_PER_WRITE = 500;

export interface EventBatch {
  events: readonly BoardEvent[];
  /** Where to continue from: the last event's cursor, or the one given when nothing came. */
  nextCursor: number;
}

export interface PresentUser {
  userId: string;
  nickname: string;
  avatarHash: string | null;
  lastSeen: number;
}

/** One page of events being read for every reader who asked for it at the same moment. */
interface SharedRead {
  readers: Set<string>;
  page: Promise<{ events: BoardEvent[]; ignored: Set<string> }>;
}

/** Ignore-list lookups per query: within any database's bound-parameter limit. */
const IGNORE_LOOKUP_CHUNK = 500;

export class ChatService {
  /** Who was marked present lately, per room: marks within PRESENCE_WRITE_EVERY_MS are skipped. */
  private readonly presenceWritten = new ByteCache<true>({
    maxBytes: 4 * 1024 * 1024,
    ttlMs: PRESENCE_WRITE_EVERY_MS,
    sizeOf: () => 8,
  });
  private readonly presenceUnwritten = new Map<string, Insertable<RoomPresenceTable>>();
  private readonly sharedReads = new Map<string, SharedRead>();

  /** Known after the first lookup; the board itself is then read through BoardService's cache. */
  private chatBoardId: string | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly boards: BoardService,
    private readonly hub: EventHub,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** The AxonChat board, created on first use (members read and post, a week of history). */
  async chatBoard(): Promise<Board> {
    // Every chat request asks for it: after the first, it comes from the boards cache.
    const known =
      this.chatBoardId === undefined ? undefined : await this.boards.find(this.chatBoardId);
    if (known !== undefined) return known;
    const find = () =>
      this.db
        .selectFrom('boards')
        .selectAll()
        .where('name_lower', '=', CHAT_BOARD_NAME.toLowerCase())
        .executeTakeFirst();
    let row = await find();
    if (row === undefined) {
      const now = Date.now();
      try {
        await this.db
          .insertInto('boards')
          .values({
            id: uuidv7(),
            name: CHAT_BOARD_NAME,
            name_lower: CHAT_BOARD_NAME.toLowerCase(),
            description: 'Real-time chat with everyone here and on trusted instances',
            is_realtime: true,
            federation_room_id: null,
            message_retention_days: 7,
            read_access: 'members',
            post_access: 'members',
            created_at: now,
            updated_at: now,
          })
          .execute();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      row = await find();
    }
    this.chatBoardId = row!.id;
    return toBoard(row!);
  }

  /** Posts an event (a chat line, or an applet's event) on a realtime board. */
  async post(
    session: Session,
    board: Board,
    input: { subject: string; body: string; eventSubject?: string },
  ): Promise<BoardEvent> {
    const user = session.user;
    if (!board.isRealtime) throw forbidden('this board is not a real-time board', 'NOT_REALTIME');
    await this.messages.assertMayPostOn(user, board);
    const { event } = await this.messages.insertSigned(session, board, {
      subject: input.subject,
      body: input.body,
      eventSubject: input.eventSubject ?? null,
    });
    await this.touchPresence(board, user);
    return event;
  }

  /**
   * The events a waiter woken by `payload` reads next, when the payload is the whole answer (see
   * PostedEvent.pageFor); undefined when the waiter must read the database.
   */
  handedOver(
    payload: unknown,
    after: number,
    reader: User | null,
  ): readonly BoardEvent[] | undefined {
    if (!(payload instanceof PostedEvent)) return undefined;
    return payload.pageFor(after, reader?.id ?? null);
  }

  /**
   * Events after `after` (or, without it, the latest ones). With `waitMs` > 0 and nothing new, waits
   * until an event commits, the time runs out or `signal` aborts, and answers at once when one does.
   * When the wait ends with an event handed over by its commit in this process, `deliver` (if
   * given) gets the answer synchronously, inside that commit's publish, before this resolves with
   * it: a thousand long polls are then answered in one loop, the first without waiting for the
   * others' turns. `deliver` must not throw; if it does, the answer is only returned.
   */
  async read(
    reader: User | null,
    board: Board,
    options: {
      after?: number;
      waitMs: number;
      limit: number;
      signal?: AbortSignal;
      deliver?: (batch: EventBatch) => void;
    },
  ): Promise<EventBatch> {
    if (!can(reader, 'read_board', { board })) throw notFound('board');
    if (reader !== null) await this.touchPresence(board, reader);
    const deadline = Date.now() + options.waitMs;
    const channel = boardChannel(board.id);
    const after = options.after;
    for (;;) {
      // Subscribe first, then read: an event that commits in between still wakes us. (Not when
      // there is no waiting: an SSE stream's reads come here with waitMs 0.)
      const next =
        after === undefined || options.waitMs <= 0
          ? undefined
          : this.nextEvent(channel, after, reader, options.deliver);
      const events =
        after === undefined
          ? await this.query(board.id, after, reader, options.limit)
          : await this.eventsAfter(board.id, after, reader, options.limit);
      const remaining = deadline - Date.now();
      if (events.length > 0 || next === undefined || remaining <= 0 || options.signal?.aborted) {
        next?.cancel();
        return {
          events,
          nextCursor: events.at(-1)?.cursor ?? after ?? (await this.lastCursor(board.id)),
        };
      }
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const handed = await Promise.race([
        next.park(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), remaining);
        }),
        new Promise<undefined>((resolve) => {
          onAbort = () => resolve(undefined);
          options.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
      next.cancel();
      if (handed !== undefined) return handed;
    }
  }

  /**
   * Waits for the channel's next event beyond `after`, subscribed from now on. Once parked (after
   * the caller's read found nothing), an event handed over by its commit is the answer: given to
   * `deliver` on the spot and resolved; any other wake-up resolves undefined (read again).
   */
  private nextEvent(
    channel: string,
    after: number,
    reader: User | null,
    deliver: ((batch: EventBatch) => void) | undefined,
  ): { park: () => Promise<EventBatch | undefined>; cancel: () => void } {
    let parked = false;
    let woken = false;
    let answer: EventBatch | undefined;
    let resolveParked: ((batch: EventBatch | undefined) => void) | undefined;
    const unsubscribe = this.hub.subscribe(channel, (seq, payload) => {
      if (seq <= after || woken) return;
      woken = true;
      unsubscribe();
      const events = parked ? this.handedOver(payload, after, reader) : undefined;
      if (events !== undefined) {
        answer = { events, nextCursor: events.at(-1)!.cursor };
        try {
          deliver?.(answer);
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

  /** Users seen in the room within the presence window, most recent first. */
  async presence(reader: User | null, board: Board, now = Date.now()): Promise<PresentUser[]> {
    if (!can(reader, 'read_board', { board })) throw notFound('board');
    await this.flushPresence();
    const rows = await this.db
      .selectFrom('room_presence')
      .innerJoin('users', 'users.id', 'room_presence.user_id')
      .select(['users.id', 'users.nickname', 'users.avatar_hash', 'room_presence.last_seen'])
      .where('room_presence.board_id', '=', board.id)
      .where('room_presence.last_seen', '>', now - PRESENCE_WINDOW_MS)
      .where('users.is_banned', '=', false)
      .orderBy('room_presence.last_seen', 'desc')
      .limit(500)
      .execute();
    return rows.map((r) => ({
      userId: r.id,
      nickname: r.nickname,
      avatarHash: r.avatar_hash,
      lastSeen: r.last_seen,
    }));
  }

  /**
   * Records that the user is in the room, at most every few seconds per user and room. The rows are
   * written together by flushPresence (every PRESENCE_FLUSH_MS, and before presence is read): a
   * write of its own would sync the database (on SQLite, blocking the event loop) in the middle of
   * posts and reads, and the presence window is a minute anyway.
   */
  async touchPresence(board: Board, user: User, now = Date.now()): Promise<void> {
    const key = `${board.id}|${user.id}`;
    if (this.presenceWritten.get(key, now) !== undefined) return;
    this.presenceWritten.set(key, true, now);
    this.presenceUnwritten.set(key, { board_id: board.id, user_id: user.id, last_seen: now });
    if (this.presenceUnwritten.size >= PRESENCE_ROWS_PER_WRITE) await this.flushPresence();
  }

  /** Writes the presence recorded since the last flush, in one transaction. */
  async flushPresence(): Promise<void> {
    if (this.presenceUnwritten.size === 0) return;
    const rows = [...this.presenceUnwritten.values()];
    this.presenceUnwritten.clear();
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += PRESENCE_ROWS_PER_WRITE) {
        await trx
          .insertInto('room_presence')
          .values(rows.slice(i, i + PRESENCE_ROWS_PER_WRITE))
          .onConflict((oc) =>
            oc
              .columns(['board_id', 'user_id'])
              .doUpdateSet((eb) => ({ last_seen: eb.ref('excluded.last_seen') })),
          )
          .execute();
      }
    });
  }

  /**
   * What `query(boardId, after, reader, limit)` answers, for many readers at the price of one: the
   * readers who ask for the same page at the same moment (every waiter one event wakes) share one
   * query of it and one lookup of their ignore lists. A reader who ignores an author on the page
   * gets its own query, filtered in the database as before.
   */
  private async eventsAfter(
    boardId: string,
    after: number,
    reader: User | null,
    limit: number,
  ): Promise<BoardEvent[]> {
    const key = `${boardId}|${after}|${limit}`;
    let shared = this.sharedReads.get(key);
    if (shared === undefined) {
      const readers = new Set<string>();
      const page = (async () => {
        // Let the other readers woken by the same event join, then close the group: whoever asks
        // after this point may need a newer commit, so gets a new query.
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.sharedReads.delete(key);
        const events = await this.query(boardId, after, null, limit);
        const authors = [...new Set(events.map((e) => e.author.fingerprint))];
        const ignored = new Set<string>();
        const ids = [...readers];
        for (let i = 0; authors.length > 0 && i < ids.length; i += IGNORE_LOOKUP_CHUNK) {
          const rows = await this.db
            .selectFrom('ignored_pubkeys')
            .select(['user_id', 'fingerprint'])
            .where('user_id', 'in', ids.slice(i, i + IGNORE_LOOKUP_CHUNK))
            .where('fingerprint', 'in', authors)
            .execute();
          for (const r of rows) ignored.add(`${r.user_id}|${r.fingerprint}`);
        }
        return { events, ignored };
      })();
      shared = { readers, page };
      this.sharedReads.set(key, shared);
    }
    if (reader !== null) shared.readers.add(reader.id);
    const { events, ignored } = await shared.page;
    if (reader === null || !events.some((e) => ignored.has(`${reader.id}|${e.author.fingerprint}`)))
      return events;
    return this.query(boardId, after, reader, limit);
  }

  private async lastCursor(boardId: string): Promise<number> {
    const row = await this.db
      .selectFrom('boards')
      .select('event_seq')
      .where('id', '=', boardId)
      .executeTakeFirst();
    return row?.event_seq ?? 0;
  }

  /** Events in cursor order: after `after`, or the latest `limit` when `after` is undefined. */
  async query(
    boardId: string,
    after: number | undefined,
    reader: User | null,
    limit: number,
  ): Promise<BoardEvent[]> {
    let q = this.db
      .selectFrom('messages')
      .leftJoin('users', 'users.id', 'messages.author_id')
      .select([
        'messages.board_seq',
        'messages.id',
        'messages.board_id',
        'messages.subject',
        'messages.event_subject',
        'messages.body',
        'messages.author_fingerprint',
        'messages.author_nickname',
        'messages.author_id',
        'messages.created_at',
        'users.avatar_hash',
      ])
      .where('messages.board_id', '=', boardId)
      .where('messages.board_seq', 'is not', null);
    q = visibleTo(q, reader);
    const rows =
      after === undefined
        ? (await q.orderBy('messages.board_seq', 'desc').limit(limit).execute()).reverse()
        : await q
            .where('messages.board_seq', '>', after)
            .orderBy('messages.board_seq')
            .limit(limit)
            .execute();
    return rows.map((r) => ({
      cursor: r.board_seq!,
      id: r.id,
      boardId: r.board_id,
      subject: r.event_subject ?? r.subject,
      body: r.body,
      author: {
        fingerprint: r.author_fingerprint,
        nickname: r.author_nickname,
        userId: r.author_id,
        avatarHash: r.avatar_hash,
      },
      createdAt: r.created_at,
    }));
  }
}
