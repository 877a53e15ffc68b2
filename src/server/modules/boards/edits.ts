// Editing messages: the author signs each new version as a federated `edit` object, the message
// row takes the latest one, and every version stays in `message_versions` for the author and
// moderators. Edits of posts on shared boards travel to the board's peers through the log.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { signObject, verifyObject, type SignedObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { conflict, forbidden, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { can } from '../accounts/permissions.js';
import type { Session } from '../accounts/sessions.js';
import type { User } from '../accounts/user.js';
import type { FederationLog } from '../federation/log.js';
import type { Realtime } from '../realtime/realtime.js';
import type { Board } from './board.js';
import { editObject } from './edit-object.js';
import type { MessageEditInput, VersionPageQuery } from './edit-schema.js';
import { messageObject, toMessage, type Message, type MessageService } from './messages.js';
import type { BoardService } from './service.js';

/** One signed version of a message: version 1 as first posted, then one per edit. */
export interface MessageVersion {
  version: number;
  subject: string;
  body: string;
  createdAt: number;
  /** Whether the author's key signed exactly this version. */
  signatureValid: boolean;
  /** The version the message shows now. */
  current: boolean;
}

/** A received edit, already checked against its author's signature (federation/objects.ts). */
export interface ReceivedEdit {
  object: SignedObject & { id: string; object_id: string; subject: string; body: string };
  createdAt: number;
  receivedFrom: string;
  origin: string;
}

type StoredRow = NonNullable<Awaited<ReturnType<MessageService['findRow']>>>;

export class MessageEdits {
  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly boards: BoardService,
    private readonly realtime: Realtime,
    private readonly log: FederationLog,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /**
   * The author's new version of their message, signed with their session key exactly as a post
   * is. Refused for someone else's message (NOT_MESSAGE_AUTHOR), a deleted one (MESSAGE_DELETED),
   * a chat line or applet event, and wherever the author may no longer post. An edit that changes
   * nothing stores nothing and answers the message as it is.
   */
  async edit(
    session: Session,
    id: string,
    input: z.output<typeof MessageEditInput>,
  ): Promise<Message> {
    const user = session.user;
    const row = await this.messages.findRow(id);
    if (row === undefined) throw notFound('message');
    const board = await this.boards.getReadable(user, row.board_id);
    if (await this.isEvent(row)) {
      throw forbidden('chat lines and applet events cannot be edited');
    }
    if (row.author_id !== user.id || row.author_fingerprint !== user.fingerprint) {
      throw forbidden('only its author may edit a message', 'NOT_MESSAGE_AUTHOR');
    }
    if (row.deleted_at !== null) throw conflict('MESSAGE_DELETED', 'this message was deleted');
    await this.messages.assertMayPostOn(user, board);
    const current = toMessage(row);
    const subject = input.subject ?? current.subject;
    if (subject === current.subject && input.body === current.body) return current;
    // Later than the version it replaces, so every instance agrees which version is the latest.
    const at = Math.max(Date.now(), (current.edited?.at ?? current.createdAt) + 1);
    const next: Message = {
      ...current,
      subject,
      body: input.body,
      signature: '',
      edited: { id: uuidv7(), at },
    };
    const { signature: _none, ...object } = editObject(next, row.pem);
    const signed = signObject(object, session.privateKey());
    const message = { ...next, signature: signed.signature };
    const stored = await this.store(board, row, message, {
      object: signed,
      receivedFrom: null,
    });
    if (!stored) throw conflict('MESSAGE_DELETED', 'this message was deleted');
    return message;
  }

  /**
   * Stores an edit received from a peer, after the inbox's checks (author, origin, board). It
   * joins the history whatever its time; the message shows it when it is newer than the version
   * it holds (edits may arrive out of order by different peers). False: the message is deleted.
   */
  async storeReceived(board: Board, row: StoredRow, edit: ReceivedEdit): Promise<boolean> {
    const current = toMessage(row);
    const message: Message = {
      ...current,
      subject: edit.object.subject,
      body: edit.object.body,
      signature: edit.object.signature,
      edited: { id: edit.object.id, at: edit.createdAt },
    };
    return this.store(board, row, message, {
      object: edit.object,
      receivedFrom: edit.receivedFrom,
      origin: edit.origin,
      onlyIfNewer: true,
    });
  }

  /**
   * One transaction: the row takes the new version (holding it against a concurrent edit or
   * deletion), the history gets it (and, on the first edit, the version as first posted), and on
   * a shared board the edit joins the federation log. Page caches hear the board changed.
   */
  private async store(
    board: Board,
    row: StoredRow,
    message: Message,
    entry: {
      object: SignedObject;
      receivedFrom: string | null;
      origin?: string;
      onlyIfNewer?: boolean;
    },
  ): Promise<boolean> {
    const edited = message.edited!;
    const committed = await this.db.transaction().execute(async (trx) => {
      let update = trx
        .updateTable('messages')
        .set({
          subject: message.subject,
          body: message.body,
          signature: message.signature,
          edited_at: edited.at,
          edit_id: edited.id,
        })
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null);
      if (entry.onlyIfNewer === true) {
        update = update.where((eb) =>
          eb.or([
            eb.and([eb('edited_at', 'is', null), eb('created_at', '<', edited.at)]),
            eb('edited_at', '<', edited.at),
          ]),
        );
      }
      await update.execute();
      // Deleted meanwhile: nothing is kept. (A received edit older than the one shown only joins
      // the history below.)
      const standing = await trx
        .selectFrom('messages')
        .select('id')
        .where('id', '=', row.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (standing === undefined) return undefined;
      await this.addVersion(trx, row, message);
      await this.realtime.notifyInTransaction(trx, { kind: 'board', boardId: board.id }, 0);
      // Last: on PostgreSQL the append holds the log's lock until the commit.
      const logSeq =
        board.federationRoomId === null
          ? undefined
          : await this.log.append(trx, {
              object: entry.object,
              roomId: board.federationRoomId,
              authorFingerprint: row.author_fingerprint,
              receivedFrom: entry.receivedFrom,
              ...(entry.origin === undefined ? {} : { origin: entry.origin }),
            });
      return { logSeq };
    });
    if (committed === undefined) return false;
    if (committed.logSeq !== undefined) this.log.announce(committed.logSeq);
    this.messages.announce(board.id);
    return true;
  }

  /** Appends a version; the first edit also keeps what the row held before, as version 1. */
  private async addVersion(
    trx: Kysely<DatabaseSchema>,
    row: StoredRow,
    message: Message,
  ): Promise<void> {
    const { last } = await trx
      .selectFrom('message_versions')
      .select((eb) => eb.fn.max('version').as('last'))
      .where('message_id', '=', row.id)
      .executeTakeFirstOrThrow();
    let version = last === null ? 1 : Number(last);
    if (last === null) {
      // What the row held until now: the message as first posted (or, for a message brought back
      // by a moderator after its history went with it, the edit it held).
      await trx
        .insertInto('message_versions')
        .values({
          message_id: row.id,
          version,
          edit_id: row.edit_id,
          subject: row.subject,
          body: row.body,
          signature: row.signature,
          created_at: Number(row.edited_at ?? row.created_at),
        })
        .execute();
    }
    version += 1;
    await trx
      .insertInto('message_versions')
      .values({
        message_id: row.id,
        version,
        edit_id: message.edited!.id,
        subject: message.subject,
        body: message.body,
        signature: message.signature,
        created_at: message.edited!.at,
      })
      .execute();
  }

  /**
   * Every version of a message, oldest first, a page at a time: for its author and moderators
   * (others see only the latest, on the message itself). A message never edited has one version.
   */
  async history(
    user: User,
    id: string,
    page: z.output<typeof VersionPageQuery>,
  ): Promise<Page<MessageVersion>> {
    const { row } = await this.messages.findReadable(user, id);
    if (row.author_id !== user.id && !can(user, 'moderate')) {
      throw forbidden("only a message's author and moderators may see its earlier versions");
    }
    if (row.deleted_at !== null) throw conflict('MESSAGE_DELETED', 'this message was deleted');
    const message = toMessage(row);
    let query = this.db
      .selectFrom('message_versions')
      .selectAll()
      .where('message_id', '=', id)
      .orderBy('version')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['n']);
      query = query.where('version', '>', after as number);
    }
    const rows = await query.execute();
    const versions =
      rows.length > 0 || page.cursor !== undefined
        ? rows
        : [
            {
              message_id: id,
              version: 1,
              edit_id: null,
              subject: row.subject,
              body: row.body,
              signature: row.signature,
              created_at: Number(row.created_at),
            },
          ];
    return toPage(
      versions,
      page.limit,
      (v) => [v.version],
      (v) => {
        const signed: Message = {
          ...message,
          subject: v.subject,
          body: v.body,
          signature: v.signature,
          edited: v.edit_id === null ? null : { id: v.edit_id, at: Number(v.created_at) },
        };
        const object =
          v.edit_id === null ? messageObject(signed, row.pem) : editObject(signed, row.pem);
        return {
          version: v.version,
          subject: v.subject,
          body: v.body,
          createdAt: Number(v.created_at),
          signatureValid: verifyObject(object, row.pem),
          current: v.edit_id === (message.edited?.id ?? null),
        };
      },
    );
  }

  /**
   * Whether a message is a chat line or an applet's event, which are never edited: stored as an
   * event, or signed as one (a chat line is stored like a post, but its author signed an event).
   */
  async isEvent(row: StoredRow): Promise<boolean> {
    const stored = await this.db
      .selectFrom('messages')
      .select('is_event')
      .where('id', '=', row.id)
      .executeTakeFirst();
    if (stored?.is_event) return true;
    return row.edit_id == null && !verifyObject(messageObject(toMessage(row), row.pem), row.pem);
  }
}
