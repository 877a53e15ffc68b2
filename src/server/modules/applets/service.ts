// Applets: a name, an event board (a realtime board that is not listed with the others), the
// BitSync content hash of their code, parameters, debug mode, the MIME types they open, and an
// approval status. A sysop's applet is approved at once; anyone else's waits for a sysop.
import type { Selectable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AppletStatus, AppletsTable } from '../../db/schema.js';
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
  codeHash: string | null;
  parameters: Record<string, unknown>;
  isDebugMode: boolean;
  handlesMimeTypes: string[];
  status: AppletStatus;
  /** The owner's public key (null for an instance's own applet). */
  authorPubkey: string | null;
  /** The owner's username (null for an instance's own applet). */
  authorUsername: string | null;
  categoryName: string | null;
  /** Bytes of the code (null when unknown). */
  codeSize: number | null;
  reviewReason: string | null;
  reviewedAt: number | null;
}

export interface AppletConfig {
  codeHash?: string | null | undefined;
  parameters?: Record<string, unknown> | undefined;
  isDebugMode?: boolean | undefined;
  handlesMimeTypes?: string[] | undefined;
  categoryName?: string | null | undefined;
  codeSize?: number | null | undefined;
  /** The asset package (parameters.asset_package_hash), kept and readable while the applet is. */
  assetHash?: string | null | undefined;
}

function toApplet(
  row: Selectable<AppletsTable> & { author_pubkey: string | null; author_username: string | null },
): Applet {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    eventBoardId: row.event_board_id,
    ownerId: row.owner_id,
    createdAt: row.created_at,
    codeHash: row.code_hash,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    isDebugMode: Boolean(row.is_debug_mode),
    handlesMimeTypes: JSON.parse(row.handles_mime_types) as string[],
    status: row.status,
    authorPubkey: row.author_pubkey,
    authorUsername: row.author_username,
    categoryName: row.category_name,
    codeSize: row.code_size === null ? null : Number(row.code_size),
    reviewReason: row.review_reason,
    reviewedAt: row.reviewed_at === null ? null : Number(row.reviewed_at),
  };
}

export class AppletService {
  constructor(private readonly database: AxonDatabase) {}

  private rows() {
    return this.database.db
      .selectFrom('applets')
      .leftJoin('users', 'users.id', 'applets.owner_id')
      .selectAll('applets')
      .select(['users.pubkey as author_pubkey', 'users.username as author_username']);
  }

  async create(
    input: {
      name: string;
      description: string;
      ownerId: string | null;
      status?: AppletStatus;
    } & AppletConfig,
    by?: User,
  ): Promise<Applet> {
    if (by !== undefined) assertCan(by, 'upload_applet');
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
            code_hash: input.codeHash ?? null,
            parameters: JSON.stringify(input.parameters ?? {}),
            is_debug_mode: input.isDebugMode ?? false,
            handles_mime_types: JSON.stringify(input.handlesMimeTypes ?? []),
            status: input.status ?? 'approved',
            category_name: input.categoryName ?? null,
            code_size: input.codeSize ?? null,
            review_reason: null,
            reviewed_at: null,
          })
          .execute();
        // The code stays stored while the applet exists (content GC keeps what a ref names).
        if (input.codeHash)
          await trx
            .insertInto('content_refs')
            .values({ content_hash: input.codeHash, kind: 'applet', ref_id: id, created_at: now })
            .execute();
        if (input.assetHash)
          await trx
            .insertInto('content_refs')
            .values({
              content_hash: input.assetHash,
              kind: 'applet_asset',
              ref_id: id,
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
    const row = await this.rows().where('applets.id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('applet');
    return toApplet(row);
  }

  /** Applets in one status (approved by default), by name. */
  async list(status: AppletStatus = 'approved'): Promise<Applet[]> {
    const rows = await this.rows()
      .where('applets.status', '=', status)
      .orderBy('applets.name')
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

  /**
   * Sets an applet's status (approve or reject) with the reviewer's reason; answers the applet as
   * it is now. `by`: the reviewer (the CLI, which is the operator, passes none).
   */
  async setStatus(id: string, status: AppletStatus, reason = '', by?: User): Promise<Applet> {
    if (by !== undefined) assertCan(by, 'approve_applet');
    const result = await this.database.db
      .updateTable('applets')
      .set({ status, review_reason: reason === '' ? null : reason, reviewed_at: Date.now() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound('applet');
    return this.get(id);
  }

  /** Removes an applet, its event board and everything on it. */
  async remove(id: string): Promise<void> {
    const applet = await this.get(id);
    await this.database.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('content_refs')
        .where('kind', 'in', ['applet', 'applet_asset'])
        .where('ref_id', '=', id)
        .execute();
      await trx.deleteFrom('applets').where('id', '=', id).execute();
      await trx
        .deleteFrom('room_state')
        .where('room_id', 'like', `${applet.eventBoardId}/%`)
        .execute();
      await trx.deleteFrom('messages').where('board_id', '=', applet.eventBoardId).execute();
      await trx.deleteFrom('boards').where('id', '=', applet.eventBoardId).execute();
    });
  }
}
