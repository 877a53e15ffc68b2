// Notifications: who is told of a new message (its parent's author, the thread's watchers, the
// users it mentions) or of a private message, stored per user (the latest NOTIFICATIONS_KEPT),
// read and marked read; the threads a user watches; and the per-user version that the live feed
// waits on. Written inside the transaction that stores the message, announced after its commit.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, NotificationKind, NotificationsTable } from '../../db/schema.js';
import { notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { can, isBanActive } from '../accounts/permissions.js';
import { USER_COLUMNS, toUser, type User } from '../accounts/user.js';
import type { Board } from '../boards/board.js';
import type { Message } from '../boards/messages.js';
import type { BoardService } from '../boards/service.js';
import { isPubkeyBanned } from '../moderation/banned-pubkeys.js';
import type { Realtime } from '../realtime/realtime.js';
import { mentionedNames } from './mentions.js';

/** Notifications kept per user: older ones go as new ones arrive. */
export const NOTIFICATIONS_KEPT = 200;
/** Watchers told of one reply at most (a thread watched by more is told to the first this many). */
export const WATCHERS_TOLD_MAX = 1000;

type Trx = Kysely<DatabaseSchema>;

export interface Notification {
  id: string;
  kind: NotificationKind;
  messageId: string | null;
  privateMessageId: string | null;
  boardId: string | null;
  threadId: string | null;
  actor: { fingerprint: string; nickname: string; userId: string | null };
  subject: string;
  createdAt: number;
  readAt: number | null;
}

/** A user told of something in a transaction, and their version after it (to announce). */
export interface Told {
  userId: string;
  version: number;
}

/** What the live feed answers: the user's version and what changes with it. */
export interface LiveState {
  version: number;
  unread: number;
}

export class NotificationService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
    private readonly realtime: Realtime,
  ) {}

  private get db() {
    return this.database.db;
  }

  /**
   * Inside the transaction storing a message (local or from a peer): tells its parent's author
   * (`reply`), the users it mentions (`mention`) and the thread's watchers (`thread_reply`), one
   * notification each, never its author, nobody who may not read the board, is banned or ignores
   * the author, and nobody at all when the author's key is banned.
   */
  async forMessage(trx: Trx, board: Board, message: Message): Promise<Told[]> {
    if (await isPubkeyBanned(trx, message.authorFingerprint)) return [];
    // The strongest reason wins: a reply to you, then a mention, then a thread you watch.
    const reasons = new Map<string, NotificationKind>();
    const add = (userId: string | null | undefined, kind: NotificationKind) => {
      if (userId != null && !reasons.has(userId)) reasons.set(userId, kind);
    };
    if (message.parentId !== null) {
      const parent = await trx
        .selectFrom('messages')
        .select('author_id')
        .where('id', '=', message.parentId)
        .executeTakeFirst();
      add(parent?.author_id, 'reply');
    }
    const names = mentionedNames(message.body);
    if (names.length > 0) {
      const mentioned = await trx
        .selectFrom('users')
        .select('id')
        .where('username_lower', 'in', names)
        .execute();
      for (const m of mentioned) add(m.id, 'mention');
    }
    if (message.parentId !== null) {
      for (const userId of await this.watchers(trx, message.threadId)) add(userId, 'thread_reply');
    }
    if (message.authorId !== null) reasons.delete(message.authorId);
    if (reasons.size === 0) return [];

    const ignoring = new Set(
      (
        await trx
          .selectFrom('ignored_pubkeys')
          .select('user_id')
          .where('fingerprint', '=', message.authorFingerprint)
          .where('user_id', 'in', [...reasons.keys()])
          .execute()
      ).map((r) => r.user_id),
    );
    const users = (
      await trx
        .selectFrom('users')
        .select(USER_COLUMNS)
        .where('id', 'in', [...reasons.keys()])
        .execute()
    ).map(toUser);
    const told: Told[] = [];
    for (const user of users) {
      if (ignoring.has(user.id) || isBanActive(user) || !can(user, 'read_board', { board }))
        continue;
      await this.insert(trx, {
        user_id: user.id,
        kind: reasons.get(user.id)!,
        message_id: message.id,
        private_message_id: null,
        board_id: board.id,
        thread_id: message.threadId,
        actor_fingerprint: message.authorFingerprint,
        actor_nickname: message.authorNickname,
        actor_id: message.authorId,
        subject: message.subject,
        created_at: message.createdAt,
      });
      told.push({ userId: user.id, version: await this.bump(trx, user.id) });
    }
    return told;
  }

  /**
   * Inside the transaction storing a private message for a local recipient who does not ignore
   * its sender (the caller knows: such a letter lands already deleted).
   */
  async forPrivateMessage(
    trx: Trx,
    letter: {
      id: string;
      recipientId: string;
      sender: { fingerprint: string; nickname: string; userId: string | null };
      createdAt: number;
    },
  ): Promise<Told[]> {
    await this.insert(trx, {
      user_id: letter.recipientId,
      kind: 'private_message',
      message_id: null,
      private_message_id: letter.id,
      board_id: null,
      thread_id: null,
      actor_fingerprint: letter.sender.fingerprint,
      actor_nickname: letter.sender.nickname,
      actor_id: letter.sender.userId,
      subject: '',
      created_at: letter.createdAt,
    });
    return [{ userId: letter.recipientId, version: await this.bump(trx, letter.recipientId) }];
  }

  /**
   * After the commit: wakes this process's live feeds of the users told (other processes heard
   * of it through the transaction's NOTIFY).
   */
  publish(told: readonly Told[]): void {
    for (const t of told)
      this.realtime.publish({ kind: 'notifications', userId: t.userId }, t.version);
  }

  /** A change of what the user is told made outside a notification (a role): one transaction. */
  async changed(trx: Trx, userId: string): Promise<Told> {
    return { userId, version: await this.bump(trx, userId) };
  }

  /** The user's notifications, newest first. */
  async list(
    user: User,
    query: { cursor?: string | undefined; limit: number; unread?: boolean | undefined },
  ): Promise<Page<Notification>> {
    let q = this.db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', user.id)
      .orderBy('id', 'desc')
      .limit(query.limit + 1);
    if (query.unread === true) q = q.where('read_at', 'is', null);
    if (query.cursor !== undefined)
      q = q.where('id', '<', decodeCursor(query.cursor, ['s'])[0] as string);
    const rows = await q.execute();
    return toPage(rows, query.limit, (r) => [r.id], toNotification);
  }

  /** The user's version and unread count, as the live feed answers them. */
  async state(userId: string): Promise<LiveState> {
    const [version, unread] = await Promise.all([
      this.db
        .selectFrom('notification_versions')
        .select('version')
        .where('user_id', '=', userId)
        .executeTakeFirst(),
      this.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow(),
    ]);
    return { version: Number(version?.version ?? 0), unread: Number(unread.n) };
  }

  /** Marks one of the user's notifications read (again: no change); 404 for anyone else's. */
  async markRead(user: User, id: string): Promise<Notification> {
    const told = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('notifications')
        .selectAll()
        .where('id', '=', id)
        .where('user_id', '=', user.id)
        .executeTakeFirst();
      if (row === undefined) throw notFound('notification');
      if (row.read_at !== null) return { row, told: [] };
      const readAt = Date.now();
      await trx
        .updateTable('notifications')
        .set({ read_at: readAt })
        .where('id', '=', id)
        .execute();
      return { row: { ...row, read_at: readAt }, told: [await this.changed(trx, user.id)] };
    });
    this.publish(told.told);
    return toNotification(told.row);
  }

  /** Marks every notification of the user read; answers how many were unread. */
  async markAllRead(user: User): Promise<number> {
    const { marked, told } = await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('notifications')
        .set({ read_at: Date.now() })
        .where('user_id', '=', user.id)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      const marked = Number(result.numUpdatedRows);
      return { marked, told: marked > 0 ? [await this.changed(trx, user.id)] : [] };
    });
    this.publish(told);
    return marked;
  }

  /** A letter the user opened: its notification is read too (other tabs' counts follow). */
  async letterRead(user: User, privateMessageId: string): Promise<void> {
    const told = await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('notifications')
        .set({ read_at: Date.now() })
        .where('user_id', '=', user.id)
        .where('private_message_id', '=', privateMessageId)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? [await this.changed(trx, user.id)] : [];
    });
    this.publish(told);
  }

  /** Whether the user watches a thread they may read (404 otherwise), and whether by default. */
  async watching(
    user: User,
    threadId: string,
  ): Promise<{ watching: boolean; chosen: boolean; threadId: string }> {
    const opening = await this.readableThread(user, threadId);
    const choice = await this.db
      .selectFrom('thread_watches')
      .select('watching')
      .where('user_id', '=', user.id)
      .where('thread_id', '=', opening.id)
      .executeTakeFirst();
    return choice === undefined
      ? { watching: opening.author_id === user.id, chosen: false, threadId: opening.id }
      : { watching: Boolean(choice.watching), chosen: true, threadId: opening.id };
  }

  /** Watches or leaves a thread the user may read (its opening post's id, or any of its posts'). */
  async setWatching(
    user: User,
    threadId: string,
    watching: boolean,
  ): Promise<{ watching: boolean; chosen: boolean; threadId: string }> {
    const opening = await this.readableThread(user, threadId);
    await this.db
      .insertInto('thread_watches')
      .values({ user_id: user.id, thread_id: opening.id, watching, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['user_id', 'thread_id']).doUpdateSet({ watching }))
      .execute();
    return { watching, chosen: true, threadId: opening.id };
  }

  /** The opening post of the thread holding `id`, when the user may read its board. */
  private async readableThread(user: User, id: string) {
    const message = await this.db
      .selectFrom('messages')
      .select(['thread_id', 'board_id'])
      .where('id', '=', id)
      .where('is_event', '=', false)
      .executeTakeFirst();
    const board = message === undefined ? undefined : await this.boards.find(message.board_id);
    if (message === undefined || board === undefined || !can(user, 'read_board', { board }))
      throw notFound('thread');
    const opening = await this.db
      .selectFrom('messages')
      .select(['id', 'author_id'])
      .where('id', '=', message.thread_id)
      .executeTakeFirst();
    if (opening === undefined) throw notFound('thread');
    return opening;
  }

  /** The thread's watchers: its opener unless they left it, and everyone who chose to watch it. */
  private async watchers(trx: Trx, threadId: string): Promise<string[]> {
    const [opening, choices] = await Promise.all([
      trx.selectFrom('messages').select('author_id').where('id', '=', threadId).executeTakeFirst(),
      trx
        .selectFrom('thread_watches')
        .select(['user_id', 'watching'])
        .where('thread_id', '=', threadId)
        .orderBy('created_at')
        .limit(WATCHERS_TOLD_MAX + 1)
        .execute(),
    ]);
    const left = new Set(choices.filter((c) => !c.watching).map((c) => c.user_id));
    const watchers = choices.filter((c) => Boolean(c.watching)).map((c) => c.user_id);
    const opener = opening?.author_id;
    if (opener != null && !left.has(opener)) watchers.unshift(opener);
    return watchers.slice(0, WATCHERS_TOLD_MAX);
  }

  /** Stores one notification and drops the user's oldest beyond NOTIFICATIONS_KEPT. */
  private async insert(trx: Trx, row: Omit<NotificationsTable, 'id' | 'read_at'>): Promise<void> {
    await trx
      .insertInto('notifications')
      .values({ ...row, id: uuidv7(), read_at: null })
      .execute();
    await trx
      .deleteFrom('notifications')
      .where('user_id', '=', row.user_id)
      .where('id', '<', (eb) =>
        eb
          .selectFrom('notifications')
          .select('id')
          .where('user_id', '=', row.user_id)
          .orderBy('id', 'desc')
          .limit(1)
          .offset(NOTIFICATIONS_KEPT - 1),
      )
      .execute();
  }

  /** Moves the user's version on, announced to other processes if the transaction commits. */
  private async bump(trx: Trx, userId: string): Promise<number> {
    const { version } = await trx
      .insertInto('notification_versions')
      .values({ user_id: userId, version: 1 })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet((eb) => ({ version: eb('notification_versions.version', '+', 1) })),
      )
      .returning('version')
      .executeTakeFirstOrThrow();
    await this.realtime.notifyInTransaction(
      trx,
      { kind: 'notifications', userId },
      Number(version),
    );
    return Number(version);
  }
}

function toNotification(row: NotificationsTable): Notification {
  return {
    id: row.id,
    kind: row.kind,
    messageId: row.message_id,
    privateMessageId: row.private_message_id,
    boardId: row.board_id,
    threadId: row.thread_id,
    actor: {
      fingerprint: row.actor_fingerprint,
      nickname: row.actor_nickname,
      userId: row.actor_id,
    },
    subject: row.subject,
    createdAt: Number(row.created_at),
    readAt: row.read_at === null ? null : Number(row.read_at),
  };
}
