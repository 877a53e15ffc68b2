// Reports: users flag messages; moderators work the queue. Upholding a report credits every
// reporter of that message with karma and can delete the message; both land in the modlog.
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { conflict, fieldError, notFound } from '../../http/errors.js';
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
}

type Row = Awaited<ReturnType<ReportService['findRow']>> & object;

const toReport = (r: Row): Report => ({
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
  messageExists: r.message_seq !== null,
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
    return toReport((await this.findRow(id))!);
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
    return toPage(await q.execute(), query.limit, (r) => [r.id], toReport);
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
      if (decision.deleteMessage && report.message_seq !== null) {
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
    return toReport((await this.findRow(reportId))!);
  }

  private rows() {
    return this.db
      .selectFrom('reports as r')
      .leftJoin('messages as m', 'm.id', 'r.message_id')
      .selectAll('r')
      .select('m.seq as message_seq');
  }

  findRow(id: string) {
    return this.rows().where('r.id', '=', id).executeTakeFirst();
  }
}
