// Reports: users flag messages; moderators work the queue. Upholding a report credits every
// reporter of that message with karma and can delete the message; both land in the modlog.
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { AppError, conflict, fieldError, notFound, type ErrorCode } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import type { User } from '../accounts/user.js';
import { assertCan, can } from '../accounts/permissions.js';
import { toMessage, type MessageService } from '../boards/messages.js';
import type { BoardService } from '../boards/service.js';
import { actorFor } from './banned-pubkeys.js';
import { recordModAction, type Actor } from './modlog.js';

/** Karma a reporter gains when a moderator upholds their report. */
export const REPORT_KARMA = 1;

export type ReportStatus = 'open' | 'upheld' | 'dismissed';

export interface Report {
  id: string;
  messageId: string;
  boardId: string;
  reporterId: string;
  reason: string;
  snapshot: { subject: string; body: string; author_fingerprint: string; author_nickname: string };
  status: ReportStatus;
  resolvedBy: string | null;
  resolutionNote: string | null;
  resolvedAt: number | null;
  createdAt: number;
  messageExists: boolean;
  /** Who reported it (null once their account is gone). */
  reporter: { username: string; nickname: string } | null;
  /** The author's local account, so a moderator can ban it by name; null for a remote author. */
  authorUsername: string | null;
}

/** A bulk resolution: what was resolved, and what was not and why (closed already, not found). */
export interface BulkResolution {
  resolved: Report[];
  skipped: { id: string; code: ErrorCode; message: string }[];
}

type Row = Awaited<ReturnType<ReportService['findRow']>> & object;

/** What a bulk resolution passes over instead of stopping: the report is not (or no longer) open to it. */
const SKIPPABLE: ReadonlySet<ErrorCode> = new Set(['REPORT_CLOSED', 'NOT_FOUND']);

const authorFingerprint = (r: Row) =>
  (JSON.parse(r.snapshot) as Report['snapshot']).author_fingerprint;

const toReport = (r: Row, authorUsername: string | null): Report => ({
  id: r.id,
  messageId: r.message_id,
  boardId: r.board_id,
  reporterId: r.reporter_id,
  reason: r.reason,
  snapshot: JSON.parse(r.snapshot) as Report['snapshot'],
  status: r.status as ReportStatus,
  resolvedBy: r.resolved_by,
  resolutionNote: r.resolution_note,
  resolvedAt: r.resolved_at,
  createdAt: r.created_at,
  messageExists: r.message_seq !== null && r.message_deleted_at === null,
  reporter:
    r.reporter_username === null
      ? null
      : { username: r.reporter_username, nickname: r.reporter_nickname! },
  authorUsername,
});

export class ReportService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly boards: BoardService,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  async report(reporter: User, messageId: string, reason: string): Promise<Report> {
    const { row, board } = await this.messages.findReadable(reporter, messageId);
    const message = toMessage(row);
    if (message.authorId === reporter.id)
      throw fieldError('params.id', 'you cannot report your own message');
    assertCan(await actorFor(this.db, reporter), 'report_message', {
      board,
      author: { id: message.authorId, hidden: false },
    });
    const id = uuidv7();
    try {
      await this.db
        .insertInto('reports')
        .values({
          id,
          message_id: message.id,
          board_id: message.boardId,
          reporter_id: reporter.id,
          reason,
          snapshot: JSON.stringify({
            subject: message.subject,
            body: message.body.slice(0, 2000),
            author_fingerprint: message.authorFingerprint,
            author_nickname: message.authorNickname,
          }),
          created_at: Date.now(),
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error))
        throw conflict('ALREADY_REPORTED', 'you have reported this message already');
      throw error;
    }
    return this.present(id);
  }

  /** The queue as a moderator sees it: only reports on boards they may read. */
  async list(
    moderator: User,
    query: { status: ReportStatus; cursor?: string | undefined; limit: number },
  ): Promise<Page<Report>> {
    assertCan(moderator, 'moderate');
    const boardIds = await this.boards.readableIds(moderator);
    if (boardIds.length === 0) return { items: [], next_cursor: null };
    let q = this.rows()
      .where('r.status', '=', query.status)
      .where('r.board_id', 'in', boardIds)
      .orderBy('r.id')
      .limit(query.limit + 1);
    if (query.cursor !== undefined)
      q = q.where('r.id', '>', decodeCursor(query.cursor, ['s'])[0] as string);
    const page = toPage(
      await q.execute(),
      query.limit,
      (r) => [r.id],
      (r) => r,
    );
    const accounts = await this.accountsByFingerprint(page.items);
    return {
      items: page.items.map((r) => toReport(r, accounts.get(authorFingerprint(r)) ?? null)),
      next_cursor: page.next_cursor,
    };
  }

  /**
   * Resolves several reports one after another, each as resolve does (its own transaction). A
   * report closed already (upholding one closes every report of its message) or out of reach is
   * skipped and named; any other error stops the batch, leaving the earlier ones resolved.
   */
  async resolveMany(
    moderator: User,
    reportIds: string[],
    decision: { action: 'uphold' | 'dismiss'; deleteMessage: boolean; note: string | null },
    signer?: KeyObject,
  ): Promise<BulkResolution> {
    assertCan(moderator, 'moderate');
    const result: BulkResolution = { resolved: [], skipped: [] };
    for (const id of new Set(reportIds)) {
      try {
        result.resolved.push(await this.resolve(moderator, id, decision, signer));
      } catch (error) {
        if (!(error instanceof AppError) || !SKIPPABLE.has(error.code)) throw error;
        result.skipped.push({ id, code: error.code, message: error.message });
      }
    }
    return result;
  }

  /** Upholds (optionally deleting the message) or dismisses; upholding closes every open report of the message. */
  async resolve(
    moderator: User,
    reportId: string,
    decision: { action: 'uphold' | 'dismiss'; deleteMessage: boolean; note: string | null },
    /** The moderator's key: a deletion on a shared board travels to its peers, signed with it. */
    signer?: KeyObject,
  ): Promise<Report> {
    assertCan(moderator, 'moderate');
    const report = await this.findRow(reportId);
    if (report === undefined) throw notFound('report');
    // A report on a board the moderator cannot read is not theirs to see: 404, as if absent.
    const board = await this.boards.find(report.board_id);
    if (board === undefined || !can(moderator, 'resolve_report', { board }))
      throw notFound('report');
    if (report.status !== 'open')
      throw conflict('REPORT_CLOSED', `this report is ${report.status} already`);
    const actor: Actor = { id: moderator.id, name: moderator.username };
    const now = Date.now();
    // Another moderator may close it between the check above and the transaction: the updates
    // below only touch open reports, so it is closed (and its reporters credited) once.
    const closedMeanwhile = () => conflict('REPORT_CLOSED', 'this report was closed meanwhile');
    const afterCommit = await this.db.transaction().execute(async (trx) => {
      if (decision.action === 'dismiss') {
        const dismissed = await trx
          .updateTable('reports')
          .set({
            status: 'dismissed',
            resolved_by: moderator.id,
            resolution_note: decision.note,
            resolved_at: now,
          })
          .where('id', '=', reportId)
          .where('status', '=', 'open')
          .executeTakeFirst();
        if (Number(dismissed.numUpdatedRows) === 0) throw closedMeanwhile();
        await recordModAction(trx, {
          actor,
          action: 'dismiss_report',
          targetType: 'report',
          targetId: reportId,
          reason: decision.note ?? 'dismissed',
          details: { message: report.message_id },
        });
        return;
      }
      // One statement closes the message's open reports and names them.
      const open = await trx
        .updateTable('reports')
        .set({
          status: 'upheld',
          resolved_by: moderator.id,
          resolution_note: decision.note,
          resolved_at: now,
        })
        .where('message_id', '=', report.message_id)
        .where('status', '=', 'open')
        .returning(['id', 'reporter_id'])
        .execute();
      if (!open.some((r) => r.id === reportId)) throw closedMeanwhile();
      await trx
        .updateTable('users')
        .set((eb) => ({ karma: eb('karma', '+', REPORT_KARMA) }))
        .where(
          'id',
          'in',
          open.map((r) => r.reporter_id),
        )
        .execute();
      await recordModAction(trx, {
        actor,
        action: 'uphold_report',
        targetType: 'report',
        targetId: reportId,
        reason: decision.note ?? 'upheld',
        details: {
          message: report.message_id,
          reports_closed: open.length,
          karma_each: REPORT_KARMA,
        },
      });
      if (
        decision.deleteMessage &&
        report.message_seq !== null &&
        report.message_deleted_at === null
      ) {
        await this.messages.remove(trx, report.message_id, report.board_id, {
          log: {
            actor,
            reason: decision.note ?? report.reason,
            details: { report: reportId, ...(JSON.parse(report.snapshot) as object) },
          },
        });
        if (signer !== undefined)
          return this.messages.logModeratorDeletion(
            trx,
            moderator,
            signer,
            board,
            report.message_id,
            decision.note ?? report.reason,
          );
      }
      return undefined;
    });
    afterCommit?.();
    if (decision.deleteMessage) this.messages.announce(report.board_id);
    return this.present(reportId);
  }

  private async present(id: string): Promise<Report> {
    const row = (await this.findRow(id))!;
    const accounts = await this.accountsByFingerprint([row]);
    return toReport(row, accounts.get(authorFingerprint(row)) ?? null);
  }

  /** The local accounts (username by key fingerprint) of these reports' authors. */
  private async accountsByFingerprint(rows: Row[]): Promise<Map<string, string>> {
    const fingerprints = [...new Set(rows.map(authorFingerprint))];
    if (fingerprints.length === 0) return new Map();
    const users = await this.db
      .selectFrom('users')
      .select(['fingerprint', 'username'])
      .where('fingerprint', 'in', fingerprints)
      .execute();
    return new Map(users.map((u) => [u.fingerprint, u.username]));
  }

  private rows() {
    return this.db
      .selectFrom('reports as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .leftJoin('users as reporter', 'reporter.id', 'r.reporter_id')
      .selectAll('r')
      .select([
        'm.seq as message_seq',
        'm.deleted_at as message_deleted_at',
        'reporter.username as reporter_username',
        'reporter.nickname as reporter_nickname',
      ]);
  }

  findRow(id: string) {
    return this.rows().where('r.id', '=', id).executeTakeFirst();
  }
}
