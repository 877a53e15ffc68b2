// Presence: who was seen in a realtime room lately. Reading, streaming and posting mark a user as
// seen; the marks are written in batches, and a presence read answers from the database (so marks
// made by other processes count too).
import type { Insertable } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import type { RoomPresenceTable } from '../../db/schema.js';
import { notFound } from '../../http/errors.js';
import { ByteCache } from '../../services/byte-cache.js';
import { can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';

/** Someone is "present" in a room when seen there this recently. */
export const PRESENCE_WINDOW_MS = 60_000;
const PRESENCE_WRITE_EVERY_MS = 10_000;
/** How often recorded presence is written (Presence.flush), and how many rows at once. */
export const PRESENCE_FLUSH_MS = 2_000;
const PRESENCE_ROWS_PER_WRITE = 500;
/** The most users a presence read lists. */
const PRESENCE_LIST_MAX = 500;

export interface PresentUser {
  /** null for a peer's user (shown as nickname@peer). */
  userId: string | null;
  nickname: string;
  avatarHash: string | null;
  lastSeen: number;
}

/** A user seen in one room lately ("who's online"); a peer's user has no id or key here. */
export interface RoomMark extends PresentUser {
  fingerprint: string | null;
  room: { id: string; name: string };
}

export class Presence {
  /** Who was marked present lately, per room: marks within PRESENCE_WRITE_EVERY_MS are skipped. */
  private readonly written = new ByteCache<true>({
    maxBytes: 4 * 1024 * 1024,
    ttlMs: PRESENCE_WRITE_EVERY_MS,
    sizeOf: () => 8,
  });
  private readonly unwritten = new Map<string, Insertable<RoomPresenceTable>>();

  /** Told of the marks each flush wrote (federation reports them to shared rooms' peers). */
  onFlushed: ((rows: ReadonlyArray<{ board_id: string; user_id: string }>) => void) | undefined;

  constructor(private readonly database: AxonDatabase) {}

  /** Users seen in the room within the presence window, most recent first. */
  async who(reader: User | null, board: Board, now = Date.now()): Promise<PresentUser[]> {
    if (!can(reader, 'read_board', { board })) throw notFound('board');
    await this.flush();
    const rows = await this.database.db
      .selectFrom('room_presence')
      .innerJoin('users', 'users.id', 'room_presence.user_id')
      .select(['users.id', 'users.nickname', 'users.avatar_hash', 'room_presence.last_seen'])
      .where('room_presence.board_id', '=', board.id)
      .where('room_presence.last_seen', '>', now - PRESENCE_WINDOW_MS)
      .where('users.is_banned', '=', false)
      .orderBy('room_presence.last_seen', 'desc')
      .limit(PRESENCE_LIST_MAX)
      .execute();
    // Users of peers sharing the room, as they reported them.
    const remote = await this.database.db
      .selectFrom('remote_presence')
      .select(['nickname', 'last_seen'])
      .where('board_id', '=', board.id)
      .where('last_seen', '>', now - PRESENCE_WINDOW_MS)
      .orderBy('last_seen', 'desc')
      .limit(PRESENCE_LIST_MAX)
      .execute();
    return [
      ...rows.map((r) => ({
        userId: r.id as string | null,
        nickname: r.nickname,
        avatarHash: r.avatar_hash,
        lastSeen: Number(r.last_seen),
      })),
      ...remote.map((r) => ({
        userId: null,
        nickname: r.nickname,
        avatarHash: null,
        lastSeen: Number(r.last_seen),
      })),
    ]
      .sort((x, y) => y.lastSeen - x.lastSeen)
      .slice(0, PRESENCE_LIST_MAX);
  }

  /**
   * Presence in several rooms at once ("who's online" outside chat): one mark per user and room,
   * the most recent first, at most PRESENCE_LIST_MAX of them (`truncated` says more were seen).
   * The caller chooses rooms the reader may read.
   */
  async across(
    rooms: readonly Board[],
    now = Date.now(),
  ): Promise<{ marks: RoomMark[]; truncated: boolean }> {
    if (rooms.length === 0) return { marks: [], truncated: false };
    await this.flush();
    const names = new Map(rooms.map((r) => [r.id, r.name]));
    const ids = [...names.keys()];
    const [local, remote] = await Promise.all([
      this.database.db
        .selectFrom('room_presence')
        .innerJoin('users', 'users.id', 'room_presence.user_id')
        .select([
          'users.id',
          'users.fingerprint',
          'users.nickname',
          'users.avatar_hash',
          'room_presence.board_id',
          'room_presence.last_seen',
        ])
        .where('room_presence.board_id', 'in', ids)
        .where('room_presence.last_seen', '>', now - PRESENCE_WINDOW_MS)
        .where('users.is_banned', '=', false)
        .orderBy('room_presence.last_seen', 'desc')
        .limit(PRESENCE_LIST_MAX + 1)
        .execute(),
      this.database.db
        .selectFrom('remote_presence')
        .select(['nickname', 'board_id', 'last_seen'])
        .where('board_id', 'in', ids)
        .where('last_seen', '>', now - PRESENCE_WINDOW_MS)
        .orderBy('last_seen', 'desc')
        .limit(PRESENCE_LIST_MAX + 1)
        .execute(),
    ]);
    const marks: RoomMark[] = [
      ...local.map((r) => ({
        userId: r.id as string | null,
        fingerprint: r.fingerprint as string | null,
        nickname: r.nickname,
        avatarHash: r.avatar_hash,
        lastSeen: Number(r.last_seen),
        room: { id: r.board_id, name: names.get(r.board_id)! },
      })),
      ...remote.map((r) => ({
        userId: null,
        fingerprint: null,
        nickname: r.nickname,
        avatarHash: null,
        lastSeen: Number(r.last_seen),
        room: { id: r.board_id, name: names.get(r.board_id)! },
      })),
    ].sort((x, y) => y.lastSeen - x.lastSeen);
    return {
      marks: marks.slice(0, PRESENCE_LIST_MAX),
      truncated: marks.length > PRESENCE_LIST_MAX,
    };
  }

  /**
   * Records that the user is in the room, at most every few seconds per user and room. The rows are
   * written together by flush (every PRESENCE_FLUSH_MS, and before presence is read): a write of
   * its own would sync the database (on SQLite, blocking the event loop) in the middle of posts and
   * reads, and the presence window is a minute anyway.
   */
  async touch(board: Board, user: User, now = Date.now()): Promise<void> {
    const key = `${board.id}|${user.id}`;
    if (this.written.get(key, now) !== undefined) return;
    this.written.set(key, true, now);
    this.unwritten.set(key, { board_id: board.id, user_id: user.id, last_seen: now });
    if (this.unwritten.size >= PRESENCE_ROWS_PER_WRITE) await this.flush();
  }

  /**
   * The user left the room (closed the chat, the tab): off the list at once, not a minute later.
   * The next read or post marks them present again.
   */
  async leave(board: Board, user: User): Promise<void> {
    const key = `${board.id}|${user.id}`;
    this.written.delete(key);
    this.unwritten.delete(key);
    await this.database.db
      .deleteFrom('room_presence')
      .where('board_id', '=', board.id)
      .where('user_id', '=', user.id)
      .execute();
  }

  /** Writes the presence recorded since the last flush, in one transaction. */
  async flush(): Promise<void> {
    if (this.unwritten.size === 0) return;
    const rows = [...this.unwritten.values()];
    this.unwritten.clear();
    await this.database.db.transaction().execute(async (trx) => {
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
    this.onFlushed?.(rows);
  }
}
