// Shared room state for multiplayer applets: one JSON document per room with a version number.
// Writers compare-and-set on the version they read; a stale writer gets 409 and the current state.
// Concurrent federated writes follow the same rule (docs/realtime.md): the first to commit
// version N+1 wins, the other must re-read and retry.
import type { AxonDatabase } from '../../db/database.js';
import { AppError, fieldError } from '../../http/errors.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';

export const ROOM_STATE_MAX_BYTES = 64 * 1024;

export interface RoomState {
  roomId: string;
  version: number;
  state: unknown;
  updatedBy: string | null;
  updatedAt: number | null;
}

export const roomChannel = (roomId: string) => `room:${roomId}`;

export class RoomStateService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly hub: EventHub,
  ) {}

  /** The room's state; a room nobody wrote yet is version 0 with state null. */
  async get(roomId: string): Promise<RoomState> {
    const row = await this.database.db
      .selectFrom('room_state')
      .selectAll()
      .where('room_id', '=', roomId)
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
    roomId: string,
    afterVersion: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<RoomState> {
    const next = this.hub.waitBeyond(roomChannel(roomId), afterVersion);
    try {
      const current = await this.get(roomId);
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
      return await this.get(roomId);
    } finally {
      next.cancel();
    }
  }

  /** Compare-and-set: writes version+1 when `version` is the current one, else 409 with the current state. */
  async set(
    roomId: string,
    input: { version: number; state: unknown },
    by: string,
  ): Promise<RoomState> {
    const text = JSON.stringify(input.state);
    if (Buffer.byteLength(text, 'utf8') > ROOM_STATE_MAX_BYTES) {
      throw fieldError('body.state', `must be at most ${ROOM_STATE_MAX_BYTES} bytes of JSON`);
    }
    const next = input.version + 1;
    const now = Date.now();
    const written = await this.database.db.transaction().execute(async (trx) => {
      let changed: number;
      if (input.version === 0) {
        const result = await trx
          .insertInto('room_state')
          .values({ room_id: roomId, version: 1, state: text, updated_by: by, updated_at: now })
          .onConflict((oc) => oc.column('room_id').doNothing())
          .executeTakeFirst();
        changed = Number(result.numInsertedOrUpdatedRows ?? 0);
      } else {
        const result = await trx
          .updateTable('room_state')
          .set({ version: next, state: text, updated_by: by, updated_at: now })
          .where('room_id', '=', roomId)
          .where('version', '=', input.version)
          .executeTakeFirst();
        changed = Number(result.numUpdatedRows);
      }
      if (changed === 1)
        await notifyOtherProcesses(trx, this.database.dialect, roomChannel(roomId), next);
      return changed === 1;
    });
    const current = await this.get(roomId);
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
    this.hub.publish(roomChannel(roomId), next);
    return current;
  }
}
