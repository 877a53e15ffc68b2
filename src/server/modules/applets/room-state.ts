// Shared room state for multiplayer applets: one JSON document per room with a version number.
// Each room belongs to a board (an applet's rooms to its event board) and is read and written by
// the same rule as that board (the routes authorize); a board holds at most MAX_ROOMS_PER_BOARD.
// Writers compare-and-set on the version they read; a stale writer gets 409 and the current state.
// Concurrent federated writes follow the same rule (docs/realtime.md): the first to commit
// version N+1 wins, the other must re-read and retry.
import type { AxonDatabase } from '../../db/database.js';
import { AppError, conflict, boundedJson } from '../../http/errors.js';
import type { Board } from '../boards/board.js';
import type { Channel } from '../realtime/channels.js';
import type { Realtime } from '../realtime/realtime.js';

export const ROOM_STATE_MAX_BYTES = 64 * 1024;
export const MAX_ROOMS_PER_BOARD = 1000;

export interface RoomState {
  roomId: string;
  version: number;
  state: unknown;
  updatedBy: string | null;
  updatedAt: number | null;
}

/** The stored key of a board's room: the board's id, then the room's name. */
const roomKey = (board: Board, roomId: string) => `${board.id}/${roomId}`;
const roomChannel = (board: Board, roomId: string): Channel => ({
  kind: 'room',
  roomKey: roomKey(board, roomId),
});

export class RoomStateService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly realtime: Realtime,
  ) {}

  /** The room's state; a room nobody wrote yet is version 0 with state null. */
  async get(board: Board, roomId: string): Promise<RoomState> {
    const row = await this.database.db
      .selectFrom('room_state')
      .selectAll()
      .where('room_id', '=', roomKey(board, roomId))
      .executeTakeFirst();
    if (row === undefined)
      return { roomId, version: 0, state: null, updatedBy: null, updatedAt: null };
    return {
      roomId,
      version: row.version,
      state: JSON.parse(row.state) as unknown,
      updatedBy: row.updated_by,
      updatedAt: row.updated_at,
    };
  }

  /** Waits (up to waitMs) for a version above `afterVersion`, then answers the state. */
  async waitFor(
    board: Board,
    roomId: string,
    afterVersion: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoomState> {
    const next = this.realtime.waitBeyond(roomChannel(board, roomId), afterVersion);
    try {
      const current = await this.get(board, roomId);
      if (current.version > afterVersion || waitMs <= 0 || signal?.aborted === true) return current;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        next.promise,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
          signal?.addEventListener('abort', () => resolve(), { once: true });
        }),
      ]);
      clearTimeout(timer);
      return await this.get(board, roomId);
    } finally {
      next.cancel();
    }
  }

  /**
   * Compare-and-set: writes version+1 when `version` is the current one, else 409 with the current
   * state. A new room (version 0) is refused with 409 TOO_MANY_ROOMS when the board is full.
   */
  async set(
    board: Board,
    roomId: string,
    input: { version: number; state: unknown },
    by: string,
  ): Promise<RoomState> {
    const text = boundedJson('body.state', input.state, ROOM_STATE_MAX_BYTES);
    const key = roomKey(board, roomId);
    const channel = roomChannel(board, roomId);
    const next = input.version + 1;
    const now = Date.now();
    const written = await this.database.db.transaction().execute(async (trx) => {
      let changed: number;
      if (input.version === 0) {
        const { rooms } = await trx
          .selectFrom('room_state')
          .select((eb) => eb.fn.countAll<number | string>().as('rooms'))
          .where('room_id', 'like', `${board.id}/%`)
          .executeTakeFirstOrThrow();
        if (Number(rooms) >= MAX_ROOMS_PER_BOARD) {
          const exists = await trx
            .selectFrom('room_state')
            .select('version')
            .where('room_id', '=', key)
            .executeTakeFirst();
          if (exists === undefined)
            throw conflict(
              'TOO_MANY_ROOMS',
              `this board holds ${MAX_ROOMS_PER_BOARD} rooms already; reuse one`,
            );
        }
        const result = await trx
          .insertInto('room_state')
          .values({ room_id: key, version: 1, state: text, updated_by: by, updated_at: now })
          .onConflict((oc) => oc.column('room_id').doNothing())
          .executeTakeFirst();
        changed = Number(result.numInsertedOrUpdatedRows ?? 0);
      } else {
        const result = await trx
          .updateTable('room_state')
          .set({ version: next, state: text, updated_by: by, updated_at: now })
          .where('room_id', '=', key)
          .where('version', '=', input.version)
          .executeTakeFirst();
        changed = Number(result.numUpdatedRows);
      }
      if (changed === 1) await this.realtime.notifyInTransaction(trx, channel, next);
      return changed === 1;
    });
    const current = await this.get(board, roomId);
    if (!written) {
      throw new AppError(
        409,
        'VERSION_CONFLICT',
        `the room is at version ${current.version}; re-read and retry`,
        {
          current: { room_id: roomId, version: current.version, state: current.state },
        },
      );
    }
    this.realtime.publish(channel, next);
    return current;
  }
}
