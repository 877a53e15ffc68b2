// Real-time boards as event buses: AxonChat and applets' event boards. Events are messages with a
// per-board cursor in commit order; readers poll, long-poll (answered the moment an event exists)
// or stream, and resume by cursor without loss or repeats. This module reads and posts; waiting
// (long polls, streams) and presence belong to the realtime module.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { forbidden, notFound } from '../../http/errors.js';
import { can } from '../accounts/permissions.js';
import type { Session } from '../accounts/sessions.js';
import type { User } from '../accounts/user.js';
import type { BoardService } from '../boards/service.js';
import { toBoard, type Board } from '../boards/board.js';
import { visibleTo, type MessageService } from '../boards/messages.js';
import type { BoardEvent, EventBatch } from '../realtime/events.js';
import type { Realtime } from '../realtime/realtime.js';

export const CHAT_BOARD_NAME = 'AxonChat';
export const MAX_EVENTS_PER_READ = 100;

/** One page of events being read for every reader who asked for it at the same moment. */
interface SharedRead {
  readers: Set<string>;
  page: Promise<{ events: BoardEvent[]; ignored: Set<string> }>;
}

/** Ignore-list lookups per query: within any database's bound-parameter limit. */
const IGNORE_LOOKUP_CHUNK = 500;

export class ChatService {
  private readonly sharedReads = new Map<string, SharedRead>();

  /** Known after the first lookup; the board itself is then read through BoardService's cache. */
  private chatBoardId: string | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly boards: BoardService,
    private readonly realtime: Realtime,
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
      asEvent: true,
    });
    await this.realtime.presence.touch(board, user);
    return event;
  }

  /**
   * One read of a board's events: after `after`, or without it the latest ones; marks the reader
   * present. Waiting for new ones is the realtime module's (LongPolls, streamEvents), which calls
   * this again when woken.
   */
  async read(
    reader: User | null,
    board: Board,
    options: {
      after?: number | undefined;
      limit: number;
      /** false for a long poll's read again on waking: its first read marked the reader already. */
      markPresent?: boolean;
    },
  ): Promise<EventBatch> {
    if (!can(reader, 'read_board', { board })) throw notFound('board');
    if (reader !== null && options.markPresent !== false)
      await this.realtime.presence.touch(board, reader);
    const after = options.after;
    const events =
      after === undefined
        ? await this.query(board.id, after, reader, options.limit)
        : await this.eventsAfter(board.id, after, reader, options.limit);
    return {
      events,
      nextCursor: events.at(-1)?.cursor ?? after ?? (await this.lastCursor(board.id)),
    };
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
        'messages.author_is_agent',
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
        isAgent: Boolean(r.author_is_agent),
      },
      createdAt: r.created_at,
    }));
  }
}
