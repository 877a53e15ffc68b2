// Per-reader read positions: for each thread, the latest post a signed-in reader has seen. From
// them come unread counts on a board's threads, unread threads on the board list and the first
// unread post of a thread. Remote posts are messages like local ones, so shared boards count too;
// positions stay on the reader's own instance and never federate.
import { sql, type Kysely } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import type { User } from '../accounts/user.js';
import { visibleTo, type MessageService } from './messages.js';
import type { BoardService } from './service.js';

export interface ThreadUnread {
  threadId: string;
  unreadCount: number;
  /** The first post after the reader's position; null when everything is read. */
  firstUnreadId: string | null;
}

export class ReadPositions {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
    private readonly messages: MessageService,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /**
   * Marks a thread read through one of its posts (one the reader may see). A position only moves
   * forward: reading an earlier page again leaves later posts read.
   */
  async markRead(reader: User, messageId: string): Promise<ThreadUnread> {
    const { row } = await this.messages.findReadable(reader, messageId);
    const now = Date.now();
    await this.db
      .insertInto('read_positions')
      .values({ user_id: reader.id, thread_id: row.thread_id, read_seq: row.seq, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['user_id', 'thread_id']).doUpdateSet({
          read_seq: (eb) =>
            eb
              .case()
              .when('read_positions.read_seq', '<', row.seq)
              .then(row.seq)
              .else(eb.ref('read_positions.read_seq'))
              .end(),
          updated_at: now,
        }),
      )
      .execute();
    const [unread] = await this.unread(reader, [row.thread_id], [row.board_id]);
    return unread ?? { threadId: row.thread_id, unreadCount: 0, firstUnreadId: null };
  }

  /** The reader's first post of the thread after their position, with its seq; null: all read. */
  async firstUnread(reader: User, threadId: string): Promise<{ id: string; seq: number } | null> {
    const row = await visibleTo(
      this.db
        .selectFrom('messages')
        .leftJoin('read_positions', (join) =>
          join
            .onRef('read_positions.thread_id', '=', 'messages.thread_id')
            .on('read_positions.user_id', '=', reader.id),
        )
        .select(['messages.id', 'messages.seq'])
        .where('messages.thread_id', '=', threadId)
        .where('messages.deleted_at', 'is', null)
        .where(sql<boolean>`messages.seq > coalesce(read_positions.read_seq, 0)`)
        .orderBy('messages.seq')
        .limit(1),
      reader,
    ).executeTakeFirst();
    return row === undefined ? null : { id: row.id, seq: Number(row.seq) };
  }

  /**
   * The unread posts of each thread named that lies on a board the reader may read; threads with
   * nothing unread (or unknown) are left out.
   */
  async forThreads(reader: User, threadIds: readonly string[]): Promise<ThreadUnread[]> {
    return this.unread(reader, threadIds, await this.boards.readableIds(reader));
  }

  /**
   * Posts after the reader's position in each thread (every post of a thread never opened),
   * counted over what the reader sees: no events, tombstones, banned or ignored keys.
   */
  private async unread(
    reader: User,
    threadIds: readonly string[],
    boardIds: readonly string[],
  ): Promise<ThreadUnread[]> {
    if (threadIds.length === 0 || boardIds.length === 0) return [];
    const counts = await visibleTo(
      this.db
        .selectFrom('messages')
        .leftJoin('read_positions', (join) =>
          join
            .onRef('read_positions.thread_id', '=', 'messages.thread_id')
            .on('read_positions.user_id', '=', reader.id),
        )
        .where('messages.thread_id', 'in', threadIds)
        .where('messages.board_id', 'in', boardIds)
        .where('messages.is_event', '=', false)
        .where('messages.deleted_at', 'is', null)
        .where(sql<boolean>`messages.seq > coalesce(read_positions.read_seq, 0)`)
        .groupBy('messages.thread_id')
        .select((eb) => [
          'messages.thread_id',
          eb.fn.countAll<number | string>().as('unread'),
          eb.fn.min('messages.seq').as('first_seq'),
        ]),
      reader,
    ).execute();
    const firsts =
      counts.length === 0
        ? []
        : await this.db
            .selectFrom('messages')
            .select(['id', 'thread_id'])
            .where(
              'seq',
              'in',
              counts.map((c) => Number(c.first_seq)),
            )
            .execute();
    const unread = new Map(counts.map((c) => [c.thread_id, Number(c.unread)]));
    const first = new Map(firsts.map((f) => [f.thread_id, f.id]));
    return [...unread].map(([threadId, unreadCount]) => ({
      threadId,
      unreadCount,
      firstUnreadId: first.get(threadId) ?? null,
    }));
  }

  /**
   * How many threads of each board have a post after the reader's position: a thread counts when
   * its latest post (its bump) is newer than what the reader saw there.
   */
  async unreadThreadsByBoard(
    reader: User,
    boardIds: readonly string[],
  ): Promise<Map<string, number>> {
    const counts = new Map<string, number>(boardIds.map((id) => [id, 0]));
    if (boardIds.length === 0) return counts;
    const rows = await visibleTo(
      this.db
        .selectFrom('messages')
        .leftJoin('read_positions', (join) =>
          join
            .onRef('read_positions.thread_id', '=', 'messages.id')
            .on('read_positions.user_id', '=', reader.id),
        )
        .where('messages.board_id', 'in', boardIds)
        .where('messages.parent_id', 'is', null)
        .where('messages.is_event', '=', false)
        .where(sql<boolean>`messages.bumped_seq > coalesce(read_positions.read_seq, 0)`)
        .groupBy('messages.board_id')
        .select((eb) => ['messages.board_id', eb.fn.countAll<number | string>().as('threads')]),
      reader,
    ).execute();
    for (const r of rows) counts.set(r.board_id, Number(r.threads));
    return counts;
  }
}
