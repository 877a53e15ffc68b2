// Boards: sysops create, edit and archive them; everyone sees the ones they may read.
import type { z } from 'zod';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import { conflict, fieldError, notFound } from '../../http/errors.js';
import { assertCan, can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import { ByteCache } from '../../services/byte-cache.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';
import { parseChannel } from '../realtime/channels.js';
import { boardChannel, toBoard, type Board } from './board.js';
import type { BoardInput, BoardPatch } from './schema.js';

/** How long a board read from the database is reused (changes from this process drop it at once). */
const BOARD_CACHE_MS = 2000;
const BOARD_CACHE_BYTES = 4 * 1024 * 1024;

/** A board's weight in memory: its texts, and a fixed share for the rest of the object. */
const boardBytes = (b: Board) =>
  512 + 2 * (b.name.length + b.description.length + JSON.stringify(b.trustedPeers).length);

export class BoardService {
  private readonly recent = new ByteCache<Board>({
    maxBytes: BOARD_CACHE_BYTES,
    ttlMs: BOARD_CACHE_MS,
    sizeOf: boardBytes,
  });

  /**
   * Told after a board was created or changed, with what it was before (undefined: created), so
   * federation can send a newly shared board's history to its new peers.
   */
  sharingChanged: ((before: Board | undefined, after: Board) => Promise<void>) | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly hub: EventHub,
  ) {
    hub.watchAll((name) => {
      const channel = parseChannel(name);
      if (channel?.kind === 'board') this.recent.delete(channel.boardId);
      else if (name === '*') this.recent.clear();
    });
  }

  private get db() {
    return this.database.db;
  }

  /** Boards the user may read, in display order; archived ones only when asked. */
  async list(user: User | null, includeArchived: boolean): Promise<Board[]> {
    // Applets' event boards are buses, not places to read: they stay out of the list.
    let q = this.db
      .selectFrom('boards')
      .selectAll()
      .where('id', 'not in', (eb) => eb.selectFrom('applets').select('event_board_id'))
      .orderBy('position')
      .orderBy('name_lower');
    if (!includeArchived) q = q.where('is_archived', '=', false);
    const rows = await q.execute();
    return rows.map(toBoard).filter((board) => can(user, 'read_board', { board }));
  }

  /** A board the user may read; 404 otherwise, so hidden boards do not reveal themselves. */
  async getReadable(user: User | null, id: string): Promise<Board> {
    const board = await this.find(id);
    if (board === undefined || !can(user, 'read_board', { board })) throw notFound('board');
    return board;
  }

  /** A board by id; read through a short cache that every change announced on it drops. */
  async find(id: string): Promise<Board | undefined> {
    const cached = this.recent.get(id);
    if (cached !== undefined) return cached;
    const row = await this.db
      .selectFrom('boards')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const board = toBoard(row);
    this.recent.set(id, board);
    return board;
  }

  /** Ids of every board the user may read: search and lists filter by it. */
  async readableIds(user: User | null): Promise<string[]> {
    return (await this.list(user, true)).map((b) => b.id);
  }

  /** Creates a board; `by`: the user asking (absent: the operator, through the CLI). */
  /** Creates a board; `thread_order` defaults to `activity` (threads bumped by replies). */
  async create(
    input: Omit<z.output<typeof BoardInput>, 'thread_order' | 'federation_home'> &
      Partial<Pick<z.output<typeof BoardInput>, 'thread_order' | 'federation_home'>>,
    by?: User,
  ): Promise<Board> {
    if (by !== undefined) assertCan(by, 'admin_board');
    assertHomeShared(input.federation_home ?? null, input.federation_room_id, input.trusted_peers);
    const id = uuidv7();
    const now = Date.now();
    try {
      await this.db
        .insertInto('boards')
        .values({
          id,
          name: input.name,
          name_lower: input.name.toLowerCase(),
          description: input.description,
          is_realtime: input.is_realtime,
          federation_room_id: input.federation_room_id,
          trusted_peers: JSON.stringify(input.trusted_peers),
          federation_home: input.federation_home ?? null,
          message_retention_days: input.message_retention_days,
          read_access: input.read_access,
          post_access: input.post_access,
          position: input.position,
          thread_order: input.thread_order ?? 'activity',
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      throw translateUnique(error);
    }
    const board = (await this.find(id))!;
    await this.sharingChanged?.(undefined, board);
    return board;
  }

  /** Edits or archives a board; `by`: the user asking (absent: the operator). */
  async update(id: string, patch: z.output<typeof BoardPatch>, by?: User): Promise<Board> {
    if (by !== undefined) assertCan(by, 'admin_board');
    const before = await this.find(id);
    if (before === undefined) throw notFound('board');
    const roomId =
      patch.federation_room_id === undefined ? before.federationRoomId : patch.federation_room_id;
    // A board that stops sharing its room forgets the room's home with it.
    const home =
      roomId === null
        ? null
        : patch.federation_home === undefined
          ? before.federationHome
          : patch.federation_home;
    if (patch.federation_home !== undefined || roomId === null) patch.federation_home = home;
    assertHomeShared(home, roomId, patch.trusted_peers ?? before.trustedPeers);
    try {
      await this.db
        .updateTable('boards')
        .set({
          ...(patch.name === undefined
            ? {}
            : { name: patch.name, name_lower: patch.name.toLowerCase() }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.is_realtime === undefined ? {} : { is_realtime: patch.is_realtime }),
          ...(patch.federation_room_id === undefined
            ? {}
            : { federation_room_id: patch.federation_room_id }),
          ...(patch.trusted_peers === undefined
            ? {}
            : { trusted_peers: JSON.stringify(patch.trusted_peers) }),
          ...(patch.federation_home === undefined
            ? {}
            : { federation_home: patch.federation_home }),
          ...(patch.message_retention_days === undefined
            ? {}
            : { message_retention_days: patch.message_retention_days }),
          ...(patch.read_access === undefined ? {} : { read_access: patch.read_access }),
          ...(patch.post_access === undefined ? {} : { post_access: patch.post_access }),
          ...(patch.position === undefined ? {} : { position: patch.position }),
          ...(patch.is_archived === undefined ? {} : { is_archived: patch.is_archived }),
          ...(patch.thread_order === undefined ? {} : { thread_order: patch.thread_order }),
          updated_at: Date.now(),
        })
        .where('id', '=', id)
        .execute();
    } catch (error) {
      throw translateUnique(error);
    }
    await notifyOtherProcesses(this.db, this.database.dialect, boardChannel(id), 0);
    this.hub.publish(boardChannel(id), 0);
    const after = (await this.find(id))!;
    await this.sharingChanged?.(before, after);
    return after;
  }
}

function translateUnique(error: unknown): unknown {
  if (!isUniqueViolation(error)) return error;
  const text = String((error as Error).message);
  return text.includes('federation_room_id')
    ? conflict('ROOM_TAKEN', 'another board already uses that federation_room_id', {
        fields: [{ field: 'body.federation_room_id', message: 'is taken' }],
      })
    : conflict('BOARD_NAME_TAKEN', 'a board with that name exists', {
        fields: [{ field: 'body.name', message: 'is taken' }],
      });
}

/** A room's home peer is one the board is shared with (its single writer, docs/realtime.md). */
function assertHomeShared(home: string | null, roomId: string | null, peers: string[]): void {
  if (home === null) return;
  if (roomId === null) throw fieldError('body.federation_home', 'needs a federation_room_id');
  if (!peers.includes(home))
    throw fieldError('body.federation_home', 'must be one of trusted_peers');
}
