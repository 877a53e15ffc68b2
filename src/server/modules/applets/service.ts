// Applets, in the minimal form the event bus needs: a name and an event board (a realtime board
// that is not listed with the others). The applets capability extends this table.
import type { Selectable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AppletsTable } from '../../db/schema.js';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import { conflict, notFound } from '../../http/errors.js';
import { toBoard, type Board } from '../boards/board.js';
import { assertCan } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';

export interface Applet {
  id: string;
  name: string;
  description: string;
  eventBoardId: string;
  ownerId: string | null;
  createdAt: number;
}

function toApplet(row: Selectable<AppletsTable>): Applet {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    eventBoardId: row.event_board_id,
    ownerId: row.owner_id,
    createdAt: row.created_at,
  };
}

export class AppletService {
  constructor(private readonly database: AxonDatabase) {}

  /** Registers an applet and its event board; `by`: the user asking (absent: the operator). */
  async create(
    input: { name: string; description: string; ownerId: string | null },
    by?: User,
  ): Promise<Applet> {
    if (by !== undefined) assertCan(by, 'admin');
    const id = uuidv7();
    const boardId = uuidv7();
    const now = Date.now();
    try {
      await this.database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('boards')
          .values({
            id: boardId,
            name: `applet:${input.name}`,
            name_lower: `applet:${input.name.toLowerCase()}`,
            description: `Events of the applet ${input.name}`,
            is_realtime: true,
            federation_room_id: null,
            message_retention_days: 30,
            read_access: 'members',
            post_access: 'members',
            created_at: now,
            updated_at: now,
          })
          .execute();
        await trx
          .insertInto('applets')
          .values({
            id,
            name: input.name,
            description: input.description,
            event_board_id: boardId,
            owner_id: input.ownerId,
            created_at: now,
          })
          .execute();
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict('APPLET_NAME_TAKEN', 'an applet with that name exists');
      throw error;
    }
    return this.get(id);
  }

  async get(id: string): Promise<Applet> {
    const row = await this.database.db
      .selectFrom('applets')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw notFound('applet');
    return toApplet(row);
  }

  async list(): Promise<Applet[]> {
    const rows = await this.database.db
      .selectFrom('applets')
      .selectAll()
      .orderBy('name')
      .limit(500)
      .execute();
    return rows.map(toApplet);
  }

  async eventBoard(applet: Applet): Promise<Board> {
    const row = await this.database.db
      .selectFrom('boards')
      .selectAll()
      .where('id', '=', applet.eventBoardId)
      .executeTakeFirstOrThrow();
    return toBoard(row);
  }
}
