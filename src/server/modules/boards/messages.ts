// Messages on boards: post (signed by the author's key as a federated object), read with the
// thread, page through a board, delete. Ignore lists and pubkey bans filter what a reader sees.
import type { KeyObject } from 'node:crypto';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { signObject, verifyObject, type SignedObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { fieldError, forbidden, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { assertCan, can } from '../accounts/permissions.js';
import { rememberPubkey } from '../accounts/known-pubkeys.js';
import type { Session } from '../accounts/sessions.js';
import type { User } from '../accounts/user.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import type { AttachmentRef, ContentService } from '../content/service.js';
import { recordModAction, type Actor } from '../moderation/modlog.js';
import type { FederationLog, NewLogEntry } from '../federation/log.js';
import type { Realtime } from '../realtime/realtime.js';
import type { BoardEvent } from '../realtime/events.js';
import { boardRef, type Board } from './board.js';
import { editObject } from './edit-object.js';
import type { BoardService } from './service.js';
import type { MessagePageQuery, MessagePost } from './schema.js';
import { numberedThreadPage, type ThreadPageNumber, type ThreadPages } from './thread-pages.js';

export interface Message {
  seq: number;
  id: string;
  boardId: string;
  boardRef: string;
  parentId: string | null;
  threadId: string;
  authorId: string | null;
  authorFingerprint: string;
  /** As shown: `nickname@instance` for a remote author (authorInstance set). */
  authorNickname: string;
  /** null for a local author; else the instance (peer nickname) the message came through. */
  authorInstance: string | null;
  /** The author is a local agent, a bot (accounts/agents.ts); absent: not one. */
  authorIsAgent?: boolean;
  subject: string;
  body: string;
  attachments: AttachmentRef[];
  signature: string;
  createdAt: number;
  replyCount?: number;
  /** On a board's thread list: the thread's latest message. */
  lastPost?: { id: string; nickname: string; at: number };
  /** Set on a tombstone: an opening post deleted while its thread had replies. */
  deleted: Tombstone | null;
  /** Set once the author edited it: the edit that signed the text it now holds (edits.ts). */
  edited?: MessageEdit | null;
}

/** The latest edit of a message: its object's id and time, both part of what the author signed. */
export interface MessageEdit {
  id: string;
  at: number;
}

/** Who deleted an opening post that stays in place for its replies, and when. */
export interface Tombstone {
  by: 'author' | 'moderator';
  at: number;
}

// Where the realtime path's event types lived before it had a module of its own.
export { PostedEvent, type BoardEvent } from '../realtime/events.js';

/** Thread messages on one page when the reader asks for no limit. */
export const THREAD_PAGE_LIMIT = 50;

export interface MessageWithThread {
  message: Message;
  signatureValid: boolean;
  /** Up to limit + 1 of the thread's messages after the cursor, oldest first. */
  thread: Array<Message & { signatureValid: boolean }>;
  /** Which numbered page this is, and where the message stands among the thread's pages. */
  pages: ThreadPages;
}

/** The federated object a message is (DESIGN.md §7), as signed by its author. */
export function messageObject(
  m: Message,
  authorPem: string,
): Record<string, unknown> & { signature: string } {
  return {
    type: 'message',
    id: m.id,
    board: m.boardRef,
    parent_id: m.parentId,
    subject: m.subject,
    body: m.body,
    attachments: m.attachments,
    author: { pubkey: authorPem, nickname: signedNickname(m) },
    created_at: new Date(m.createdAt).toISOString(),
    signature: m.signature,
  };
}

/**
 * The federated object an event on a realtime board is (a chat line, an applet's event; DESIGN.md
 * §7 "chat events"), as signed by its author: a message without thread or attachments.
 */
export function eventObject(
  m: Message,
  authorPem: string,
): Record<string, unknown> & { signature: string } {
  return {
    type: 'event',
    id: m.id,
    board: m.boardRef,
    subject: m.subject,
    body: m.body,
    author: { pubkey: authorPem, nickname: signedNickname(m) },
    created_at: new Date(m.createdAt).toISOString(),
    signature: m.signature,
  };
}

/** How a remote author is shown: never like a local name (local nicknames hold no `@`). */
export const remoteDisplayName = (nickname: string, instance: string) => `${nickname}@${instance}`;

/** The nickname the author signed: the shown one without the `@instance` of a remote author. */
export function signedNickname(m: Pick<Message, 'authorNickname' | 'authorInstance'>): string {
  const suffix = m.authorInstance == null ? '' : `@${m.authorInstance}`;
  return suffix !== '' && m.authorNickname.endsWith(suffix)
    ? m.authorNickname.slice(0, -suffix.length)
    : m.authorNickname;
}

const MESSAGE_COLUMNS = [
  'messages.seq',
  'messages.id',
  'messages.board_id',
  'messages.board_ref',
  'messages.parent_id',
  'messages.thread_id',
  'messages.author_id',
  'messages.author_fingerprint',
  'messages.author_nickname',
  'messages.author_instance',
  'messages.author_is_agent',
  'messages.subject',
  'messages.body',
  'messages.attachments',
  'messages.signature',
  'messages.created_at',
  'messages.deleted_at',
  'messages.deleted_by',
  'messages.edited_at',
  'messages.edit_id',
] as const;

type MessageRow = {
  seq: number;
  id: string;
  board_id: string;
  board_ref: string;
  parent_id: string | null;
  thread_id: string;
  author_id: string | null;
  author_fingerprint: string;
  author_nickname: string;
  author_instance?: string | null;
  author_is_agent?: boolean | number;
  subject: string;
  body: string;
  attachments: string;
  signature: string;
  created_at: number;
  deleted_at: number | null;
  deleted_by: string | null;
  edited_at?: number | string | null;
  edit_id?: string | null;
};

/** What a board's thread list reads beside each thread starter. */
type ThreadListColumns = {
  reply_count?: number | string;
  bumped_seq?: number | string | null;
  last_id?: string | null;
  last_nickname?: string | null;
  last_at?: number | string | null;
};

export function toMessage(row: MessageRow): Message {
  return {
    seq: row.seq,
    id: row.id,
    boardId: row.board_id,
    boardRef: row.board_ref,
    parentId: row.parent_id,
    threadId: row.thread_id,
    authorId: row.author_id,
    authorFingerprint: row.author_fingerprint,
    authorNickname: row.author_nickname,
    authorInstance: row.author_instance ?? null,
    authorIsAgent: Boolean(row.author_is_agent),
    subject: row.subject,
    body: row.body,
    attachments: JSON.parse(row.attachments) as AttachmentRef[],
    signature: row.signature,
    createdAt: row.created_at,
    deleted:
      row.deleted_at === null
        ? null
        : { by: row.deleted_by === 'moderator' ? 'moderator' : 'author', at: row.deleted_at },
    edited: row.edit_id == null ? null : { id: row.edit_id, at: Number(row.edited_at) },
  };
}

/**
 * Whether the author's key signed exactly this message. A tombstone no longer holds what was
 * signed, so it never verifies (clients show the tombstone instead).
 */
function verifies(m: Message, pem: string): boolean {
  if (m.deleted === null && m.edited != null) return verifyObject(editObject(m, pem), pem);
  // Posted as a message, or as an event on a realtime board (the same content either way).
  return (
    m.deleted === null &&
    (verifyObject(messageObject(m, pem), pem) || verifyObject(eventObject(m, pem), pem))
  );
}

/**
 * Hides messages by keys the reader ignores and by keys banned on this instance: the one rule for
 * board pages, threads and event reads (search states the same rule in its SQL).
 */
export function visibleTo<TB extends keyof DatabaseSchema, O>(
  q: SelectQueryBuilder<DatabaseSchema, TB | 'messages', O>,
  reader: User | null,
  now = Date.now(),
): SelectQueryBuilder<DatabaseSchema, TB | 'messages', O> {
  // The filter names only `messages` columns; Kysely cannot type that for a generic join, so the
  // query is viewed as a messages-only one while the conditions are added.
  let filtered = (q as unknown as SelectQueryBuilder<DatabaseSchema, 'messages', O>).where(
    'messages.author_fingerprint',
    'not in',
    (eb) =>
      eb
        .selectFrom('banned_pubkeys')
        .select('banned_pubkeys.fingerprint')
        .where((w) =>
          w.or([
            w('banned_pubkeys.expires_at', 'is', null),
            w('banned_pubkeys.expires_at', '>', now),
          ]),
        ),
  );
  if (reader !== null) {
    filtered = filtered.where('messages.author_fingerprint', 'not in', (eb) =>
      eb
        .selectFrom('ignored_pubkeys')
        .select('ignored_pubkeys.fingerprint')
        .where('ignored_pubkeys.user_id', '=', reader.id),
    );
  }
  return filtered as unknown as SelectQueryBuilder<DatabaseSchema, TB | 'messages', O>;
}

export class MessageService {
  /**
   * Told of each new message on a board that is not realtime, local or from a peer, inside the
   * transaction that stores it (notifications); the function it returns runs after the commit.
   */
  onStored:
    | ((trx: Kysely<DatabaseSchema>, board: Board, message: Message) => Promise<() => void>)
    | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
    private readonly bannedPubkeys: BannedPubkeys,
    private readonly realtime: Realtime,
    private readonly content: ContentService,
    private readonly log: FederationLog,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Signs a moderator's action on a shared board's message as a FederatedAction (context.ts). */
  signModeration:
    | ((
        moderator: User,
        key: KeyObject,
        action: { kind: 'delete_message'; message_id: string },
        reason: string,
      ) => SignedObject)
    | undefined;

  async post(session: Session, input: z.output<typeof MessagePost>): Promise<Message> {
    const user = session.user;
    const board = await this.boards.getReadable(user, input.board_id);
    await this.assertMayPostOn(user, board);
    const attachments = await this.content.resolveOwnUploads(
      user,
      input.attachments ?? [],
      'body.attachments',
    );
    let threadId: string;
    const id = uuidv7();
    if (input.parent_id != null) {
      const parent = await this.findRow(input.parent_id);
      if (parent === undefined) throw notFound('parent message');
      if (parent.board_id !== board.id) throw fieldError('body.parent_id', 'is on another board');
      threadId = parent.thread_id;
    } else {
      threadId = id;
    }
    const { message } = await this.insertSigned(session, board, {
      id,
      parentId: input.parent_id ?? null,
      threadId,
      subject: input.subject,
      body: input.body,
      attachments,
    });
    return message;
  }

  /** Who may post here, for every path that posts (board messages, chat lines, applet events). */
  async assertMayPostOn(user: User, board: Board): Promise<void> {
    assertMayPost(user, board);
    if (await this.bannedPubkeys.isBanned(user.fingerprint)) {
      throw forbidden('your key is banned on this instance', 'PUBKEY_BANNED');
    }
  }

  /**
   * Callers check assertMayPostOn first (before their own input checks, so refusals come first).
   * Signs a message (or an event) with the author's key and stores it in one transaction, taking
   * the board's next event number while holding the board row, then publishes the event through
   * the realtime module (which hands it to waiting readers, minus those who ignore the author).
   * Returns the stored message and the event it is on the board's bus.
   */
  async insertSigned(
    session: Session,
    board: Board,
    input: {
      id?: string;
      parentId?: string | null;
      threadId?: string;
      subject: string;
      body: string;
      attachments?: AttachmentRef[];
      eventSubject?: string | null;
      /** Signed (and federated) as an event object rather than a message: chat and applets. */
      asEvent?: boolean;
    },
  ): Promise<{ message: Message; event: BoardEvent }> {
    const user = session.user;
    const id = input.id ?? uuidv7();
    const unsigned: Message = {
      seq: 0,
      id,
      boardId: board.id,
      boardRef: boardRef(board),
      parentId: input.parentId ?? null,
      threadId: input.threadId ?? id,
      authorId: user.id,
      authorFingerprint: user.fingerprint,
      authorNickname: user.nickname,
      authorInstance: null,
      authorIsAgent: user.isAgent,
      subject: input.subject,
      body: input.body,
      attachments: input.attachments ?? [],
      signature: '',
      createdAt: Date.now(),
      deleted: null,
    };
    const { signature: _none, ...object } = (input.asEvent === true ? eventObject : messageObject)(
      unsigned,
      user.pubkey,
    );
    const signed = signObject(object, session.privateKey());
    const message = { ...unsigned, signature: signed.signature };
    // A message or event on a shared board goes to the federation log in the same transaction: its
    // peers get it at once (delivery wakes on the append).
    const federated = board.federationRoomId !== null;
    return this.store(board, message, {
      authorPem: user.pubkey,
      avatarHash: user.avatarHash,
      eventSubject: input.eventSubject ?? null,
      log: federated
        ? { object: signed, roomId: board.federationRoomId!, receivedFrom: null, manifests: null }
        : undefined,
    });
  }

  /**
   * Stores a message received from a peer, already verified against its author's signature, with
   * its log entry (relayed to the board's other peers) in one transaction, then hands it to
   * waiting readers like a local post. `message.authorNickname` is the shown `nick@instance`.
   */
  async insertRemote(
    board: Board,
    message: Message,
    entry: {
      object: SignedObject;
      authorPem: string;
      receivedFrom: string;
      manifests: unknown;
      origin: string;
      /** For an event object: its subject (the received event is stored as an event). */
      eventSubject?: string;
    },
    extra?: (trx: Kysely<DatabaseSchema>) => Promise<void>,
  ): Promise<{ message: Message; event: BoardEvent }> {
    return this.store(
      board,
      message,
      {
        authorPem: entry.authorPem,
        avatarHash: null,
        eventSubject: entry.eventSubject ?? null,
        log: {
          object: entry.object,
          roomId: board.federationRoomId!,
          receivedFrom: entry.receivedFrom,
          manifests: entry.manifests as Record<string, unknown> | null,
          origin: entry.origin,
        },
      },
      extra,
    );
  }

  /**
   * One transaction: the board's next event number (holding the board row), the message, its
   * attachment references and, for a shared board, its federation log entry; then the event goes
   * to this process's waiters.
   */
  private async store(
    board: Board,
    message: Message,
    options: {
      authorPem: string;
      avatarHash: string | null;
      eventSubject: string | null;
      log?: Omit<NewLogEntry, 'authorFingerprint'> | undefined;
    },
    extra?: (trx: Kysely<DatabaseSchema>) => Promise<void>,
  ): Promise<{ message: Message; event: BoardEvent }> {
    const channel = { kind: 'board', boardId: board.id } as const;
    const committed = await this.db.transaction().execute(async (trx) => {
      await rememberPubkey(trx, message.authorFingerprint, options.authorPem);
      const { event_seq } = await trx
        .updateTable('boards')
        .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
        .where('id', '=', board.id)
        .returning('event_seq')
        .executeTakeFirstOrThrow();
      const { seq } = await trx
        .insertInto('messages')
        .values({
          id: message.id,
          board_id: board.id,
          board_ref: message.boardRef,
          parent_id: message.parentId,
          thread_id: message.threadId,
          author_id: message.authorId,
          author_fingerprint: message.authorFingerprint,
          author_nickname: message.authorNickname,
          author_instance: message.authorInstance,
          author_is_agent: message.authorIsAgent === true,
          subject: message.subject,
          body: message.body,
          attachments: JSON.stringify(message.attachments),
          signature: message.signature,
          is_event: options.eventSubject != null,
          event_subject: options.eventSubject,
          board_seq: event_seq,
          created_at: message.createdAt,
        })
        .returning('seq')
        .executeTakeFirstOrThrow();
      await this.content.addRefs(trx, 'message', message.id, message.attachments);
      await this.realtime.notifyInTransaction(trx, channel, event_seq);
      await extra?.(trx);
      // Events on a realtime board (chat lines, applets') tell nobody.
      const stored = board.isRealtime ? undefined : await this.onStored?.(trx, board, message);
      // Last: on PostgreSQL the append holds the log's lock until the commit.
      const logSeq =
        options.log === undefined
          ? undefined
          : await this.log.append(trx, {
              ...options.log,
              manifests: options.log.manifests ?? (await manifestsOf(trx, message.attachments)),
              authorFingerprint: message.authorFingerprint,
            });
      return { seq, event_seq, logSeq, stored };
    });
    if (committed.logSeq !== undefined) this.log.announce(committed.logSeq);
    committed.stored?.();
    const event: BoardEvent = {
      cursor: committed.event_seq,
      id: message.id,
      boardId: board.id,
      subject: options.eventSubject ?? message.subject,
      body: message.body,
      author: {
        fingerprint: message.authorFingerprint,
        nickname: message.authorNickname,
        userId: message.authorId,
        avatarHash: options.avatarHash,
        isAgent: message.authorIsAgent === true,
      },
      createdAt: message.createdAt,
    };
    await this.realtime.publishEvent(event);
    // What was stored, without reading it back: the poster's answer does not queue for a database
    // connection behind the readers this very event just woke.
    return { message: { ...message, seq: committed.seq }, event };
  }

  /** A message the reader may see, its thread (oldest first) and whether each signature verifies. */
  /**
   * A message, and one page of its thread in posting order (the thread's opening message first):
   * `limit` + 1 rows after the cursor, so the caller can tell whether another page follows.
   */
  async get(
    reader: User | null,
    id: string,
    page: { cursor?: string | undefined; limit: number; page?: ThreadPageNumber } = {
      limit: THREAD_PAGE_LIMIT,
    },
  ): Promise<MessageWithThread> {
    const { row } = await this.findReadable(reader, id);
    const now = Date.now();
    const numbered = await numberedThreadPage(
      this.db,
      reader,
      row,
      page.limit,
      page.page,
      page.cursor !== undefined,
    );
    let query = visibleTo(
      this.db
        .selectFrom('messages')
        .innerJoin('pubkeys', 'pubkeys.fingerprint', 'messages.author_fingerprint')
        .select([...MESSAGE_COLUMNS, 'pubkeys.pem'])
        .where('messages.thread_id', '=', row.thread_id)
        .orderBy('messages.seq')
        .limit(page.limit + 1)
        .offset(((numbered.page ?? 1) - 1) * page.limit),
      reader,
      now,
    );
    if (page.cursor !== undefined) {
      const [seq] = decodeCursor(page.cursor, ['n']);
      query = query.where('messages.seq', '>', seq as number);
    }
    const thread = (await query.execute()).map((r) => {
      const m = toMessage(r);
      return { ...m, signatureValid: verifies(m, r.pem) };
    });
    const message = toMessage(row);
    return {
      message,
      signatureValid: verifies(message, row.pem),
      thread,
      pages: numbered,
    };
  }

  /**
   * A message the reader may see (its board readable to them, its author's key not banned here),
   * with its board; 404 otherwise, so hidden messages do not reveal themselves. (Keys the reader
   * ignores leave lists and threads, but a message opened by its id still opens.)
   */
  async findReadable(
    reader: User | null,
    id: string,
  ): Promise<{ row: NonNullable<Awaited<ReturnType<MessageService['findRow']>>>; board: Board }> {
    const row = await this.findRow(id);
    if (row === undefined) throw notFound('message');
    const board = await this.boards.getReadable(reader, row.board_id);
    const visible = await visibleTo(
      this.db.selectFrom('messages').select('messages.id').where('messages.id', '=', row.id),
      null,
    ).executeTakeFirst();
    const author = { id: row.author_id, hidden: visible === undefined };
    if (!can(reader, 'read_message', { board, author })) throw notFound('message');
    return { row, board };
  }

  /**
   * A page of a board's messages by keyset on seq: no skips or repeats while others post. Thread
   * starters (`threads`), newest first, come by their latest post on boards ordered by activity,
   * each with its reply count and latest post.
   */
  async list(
    reader: User | null,
    boardId: string,
    query: z.output<typeof MessagePageQuery>,
  ): Promise<Page<Message>> {
    const board = await this.boards.getReadable(reader, boardId);
    const bumped = query.threads && query.order === 'newest' && board.threadOrder === 'activity';
    const key = bumped ? 'messages.bumped_seq' : 'messages.seq';
    let q = visibleTo(
      this.db
        .selectFrom('messages')
        .select(MESSAGE_COLUMNS)
        .where('messages.board_id', '=', board.id)
        .where('messages.is_event', '=', false),
      reader,
      Date.now(),
    )
      .orderBy(key, query.order === 'newest' ? 'desc' : 'asc')
      .limit(query.limit + 1);
    if (query.threads) {
      const latest = <C extends 'id' | 'author_nickname' | 'created_at'>(column: C) =>
        this.db
          .selectFrom('messages as lp')
          .select(`lp.${column}` as `lp.${C}`)
          // A correlated reference to the outer row, which the subquery's own types cannot name.
          .where(sql<boolean>`lp.seq = messages.bumped_seq`);
      q = q.where('messages.parent_id', 'is', null).select((eb) => [
        eb
          .selectFrom('messages as r')
          .select((c) => c.fn.countAll<number>().as('n'))
          .whereRef('r.thread_id', '=', 'messages.id')
          .whereRef('r.seq', '!=', 'messages.seq')
          .as('reply_count'),
        'messages.bumped_seq',
        latest('id').as('last_id'),
        latest('author_nickname').as('last_nickname'),
        latest('created_at').as('last_at'),
      ]) as unknown as typeof q;
    }
    if (query.cursor !== undefined) {
      const [seq] = decodeCursor(query.cursor, ['n']);
      q = q.where(key, query.order === 'newest' ? '<' : '>', seq as number);
    }
    if (query.page !== undefined) q = q.offset((query.page - 1) * query.limit);
    const rows = (await q.execute()) as Array<MessageRow & ThreadListColumns>;
    return toPage(
      rows,
      query.limit,
      (r) => [bumped ? Number(r.bumped_seq) : r.seq],
      (r) => ({
        ...toMessage(r),
        ...(r.reply_count === undefined ? {} : { replyCount: Number(r.reply_count) }),
        ...(r.last_id == null
          ? {}
          : {
              lastPost: { id: r.last_id, nickname: r.last_nickname!, at: Number(r.last_at) },
            }),
      }),
    );
  }

  /**
   * Authors delete their own messages; moderators any message on a board they can read (logged).
   * An opening post with replies becomes a tombstone (see remove); a tombstone is already deleted.
   */
  async delete(session: Session, id: string, reason: string | undefined): Promise<Removal> {
    const user = session.user;
    const row = await this.findRow(id);
    if (row === undefined || row.deleted_at !== null) throw notFound('message');
    const board = await this.boards.getReadable(user, row.board_id);
    const own = row.author_id === user.id;
    assertCan(user, 'delete_message', { board, author: { id: row.author_id, hidden: false } }, () =>
      forbidden('only the author or a moderator may delete this message'),
    );
    // The author's own deletion of a message on a shared board travels to its peers, signed now;
    // a moderator's as a FederatedAction signed by the moderator (logModeratorDeletion).
    const deletion =
      own && board.federationRoomId !== null
        ? signObject(
            {
              type: 'delete',
              id: uuidv7(),
              object_id: row.id,
              author: { pubkey: user.pubkey, nickname: user.nickname },
              created_at: new Date().toISOString(),
            },
            session.privateKey(),
          )
        : undefined;
    const { removal, logSeq, afterCommit } = await this.db.transaction().execute(async (trx) => {
      const removal = await this.remove(trx, row.id, board.id, {
        ...(own
          ? {}
          : {
              log: {
                actor: { id: user.id, name: user.username },
                reason: reason ?? 'no reason given',
                details: {
                  board: board.name,
                  author: row.author_fingerprint,
                  subject: row.subject,
                },
              },
            }),
      });
      const afterCommit = own
        ? undefined
        : await this.logModeratorDeletion(
            trx,
            user,
            session.privateKey(),
            board,
            row.id,
            reason ?? 'no reason given',
          );
      const logSeq =
        deletion === undefined
          ? undefined
          : await this.log.append(trx, {
              object: deletion,
              roomId: board.federationRoomId,
              authorFingerprint: user.fingerprint,
              receivedFrom: null,
            });
      return { removal, logSeq, afterCommit };
    });
    afterCommit?.();
    if (logSeq !== undefined) this.log.announce(logSeq);
    this.realtime.publish({ kind: 'board', boardId: board.id }, 0);
    return removal;
  }

  /**
   * Deletes a message inside the caller's transaction: logs it when a moderator does it (with a
   * log, the deletion counts as a moderator's), and tells other processes (whose page caches must
   * drop it). The caller publishes locally after commit.
   *
   * An opening post with replies is not removed, or its replies would lose their thread: its text
   * and attachments go and a tombstone (who, when) keeps its place. When the last reply under a
   * tombstone goes, the tombstone goes with it.
   */
  async remove(
    trx: Kysely<DatabaseSchema>,
    id: string,
    boardId: string,
    options: { log?: { actor: Actor; reason: string; details: Record<string, unknown> } },
  ): Promise<Removal> {
    const row = await trx
      .selectFrom('messages')
      .select(['seq', 'parent_id', 'thread_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    const replies =
      row === undefined || row.thread_id !== id
        ? undefined
        : await trx
            .selectFrom('messages')
            .select('id')
            .where('thread_id', '=', id)
            .where('seq', '!=', row.seq)
            .limit(1)
            .executeTakeFirst();
    const tombstone = replies !== undefined;
    if (tombstone) {
      await trx
        .updateTable('messages')
        .set({
          body: '',
          attachments: '[]',
          deleted_at: Date.now(),
          deleted_by: options.log === undefined ? 'author' : 'moderator',
        })
        .where('id', '=', id)
        .execute();
      await trx
        .deleteFrom('content_refs')
        .where('kind', '=', 'message')
        .where('ref_id', '=', id)
        .execute();
      // Its earlier versions go with its text (edits.ts).
      await trx.deleteFrom('message_versions').where('message_id', '=', id).execute();
    } else {
      await trx.deleteFrom('messages').where('id', '=', id).execute();
      if (row !== undefined && row.thread_id !== id)
        await this.dropBareTombstone(trx, row.thread_id);
    }
    if (options.log !== undefined) {
      await recordModAction(trx, {
        actor: options.log.actor,
        action: 'delete_message',
        targetType: 'message',
        targetId: id,
        reason: options.log.reason,
        details: options.log.details,
      });
    }
    // Number 0 wakes no reader (cursors only move forward); it tells caches the board changed.
    await this.realtime.notifyInTransaction(trx, { kind: 'board', boardId }, 0);
    return { tombstone };
  }

  /** Deletes a thread's tombstone once no reply is left under it. */
  private async dropBareTombstone(trx: Kysely<DatabaseSchema>, threadId: string): Promise<void> {
    const left = await trx
      .selectFrom('messages')
      .select('id')
      .where('thread_id', '=', threadId)
      .where('id', '!=', threadId)
      .limit(1)
      .executeTakeFirst();
    if (left !== undefined) return;
    await trx
      .deleteFrom('messages')
      .where('id', '=', threadId)
      .where('deleted_at', 'is not', null)
      .execute();
  }

  /**
   * Inside the caller's transaction, last (the log's lock): a moderator's deletion of a message on
   * a shared board, logged as a FederatedAction signed with the moderator's key. Returns what to
   * call after the commit (wakes delivery), or undefined when the board is not shared.
   */
  async logModeratorDeletion(
    trx: Kysely<DatabaseSchema>,
    moderator: User,
    key: KeyObject,
    board: Board,
    messageId: string,
    reason: string,
  ): Promise<(() => void) | undefined> {
    if (board.federationRoomId === null || this.signModeration === undefined) return undefined;
    const object = this.signModeration(
      moderator,
      key,
      { kind: 'delete_message', message_id: messageId },
      reason,
    );
    const seq = await this.log.append(trx, {
      object,
      roomId: board.federationRoomId,
      authorFingerprint: moderator.fingerprint,
      receivedFrom: null,
    });
    return seq === undefined ? undefined : () => this.log.announce(seq);
  }

  /** Tells this process's listeners that a board changed (after a commit elsewhere in the code). */
  announce(boardId: string): void {
    this.realtime.publish({ kind: 'board', boardId }, 0);
  }

  findRow(id: string) {
    return this.db
      .selectFrom('messages')
      .innerJoin('pubkeys', 'pubkeys.fingerprint', 'messages.author_fingerprint')
      .select([...MESSAGE_COLUMNS, 'pubkeys.pem'])
      .where('messages.id', '=', id)
      .executeTakeFirst();
  }
}

/** The manifests of a message's attachments, to travel beside its signed object. */
export async function manifestsOf(
  trx: Kysely<DatabaseSchema>,
  attachments: readonly AttachmentRef[],
): Promise<Record<string, unknown> | null> {
  if (attachments.length === 0) return null;
  const rows = await trx
    .selectFrom('manifests')
    .select(['content_hash', 'manifest'])
    .where(
      'content_hash',
      'in',
      attachments.map((a) => a.content_hash),
    )
    .execute();
  return Object.fromEntries(rows.map((r) => [r.content_hash, JSON.parse(r.manifest) as unknown]));
}

/** What a deletion did: removed the message, or left its tombstone for the thread's replies. */
export interface Removal {
  tombstone: boolean;
}

export function assertMayPost(user: User, board: Board): void {
  if (can(user, 'post_to_board', { board })) return;
  if (!user.canPost) throw forbidden('this account may not post', 'POSTING_DISABLED');
  if (board.isArchived) throw forbidden('this board is archived', 'BOARD_ARCHIVED');
  throw forbidden(`only ${board.postAccess} may post on this board`);
}
