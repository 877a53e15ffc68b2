// Reports, karma and the moderation log through the API on SQLite and PostgreSQL: reporting (and
// its refusals), the moderators-only queue, upholding (deleting the message, closing every report of
// it, crediting each reporter) and dismissing, karma adjustments, moderator deletions, and the
// modlog with its cursor. Failures write nothing. The tests run in order and share state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  postMessage,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardInput } from '../boards/schema.js';
import { REPORT_KARMA } from './reports.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

interface ReportBody {
  id: string;
  message_id: string;
  board_id: string;
  reporter_id: string;
  reason: string;
  snapshot: { subject: string; body: string; author_fingerprint: string; author_nickname: string };
  status: 'open' | 'upheld' | 'dismissed';
  resolved_by: string | null;
  resolution_note: string | null;
  resolved_at: string | null;
  message_exists: boolean;
  created_at: string;
  reporter: { id: string; username: string; nickname: string } | null;
  author_username: string | null;
}

interface ModlogBody {
  id: string;
  actor: { id: string | null; name: string };
  action: string;
  target_type: string;
  target_id: string;
  reason: string;
  details: Record<string, unknown>;
  created_at: string;
}

interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

describe.each(DIALECTS)('reports, karma and modlog on %s', (dialect) => {
  let t: TestApp;
  let mod: Account;
  let author: Account;
  let rep1: Account;
  let rep2: Account;
  let boardId: string;
  let authorFingerprint: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [mod, author, rep1, rep2] = await registerUsers(t, ['mod', 'author', 'rep1', 'rep2'], {
      mod: 'moderator',
    });
    boardId = (await t.ctx.boards.create(BoardInput.parse({ name: 'general' }))).id;
    authorFingerprint = (await t.ctx.accounts.getUserByUsername('author')).fingerprint;
  });
  afterAll(() => t.close());

  const db = () => t.ctx.database.db;
  const count = (table: 'reports' | 'modlog' | 'messages') => countRows(t, table);
  const karma = async (account: Account): Promise<number> => {
    const res = await t.app.inject({ url: '/api/user/profile/', headers: bearer(account.token) });
    expect(res.statusCode).toBe(200);
    return res.json().data.karma as number;
  };
  const post = (account: Account, subject: string, body: string) =>
    postMessage(t, account.token, { board_id: boardId, subject, body });
  const getMessage = (id: string) => t.app.inject({ url: `/api/messages/${id}/` });
  const report = (account: Account | null, messageId: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: `/api/messages/${messageId}/report/`,
      headers: account === null ? {} : bearer(account.token),
      payload,
    });
  const queue = (account: Account, query = '') =>
    t.app.inject({ url: `/api/moderation/reports/${query}`, headers: bearer(account.token) });
  const resolve = (account: Account, reportId: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: `/api/moderation/reports/${reportId}/resolve/`,
      headers: bearer(account.token),
      payload,
    });
  const adjustKarma = (account: Account, username: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: `/api/moderation/users/${username}/karma/`,
      headers: bearer(account.token),
      payload,
    });
  const modlog = async (query = ''): Promise<PageBody<ModlogBody>> => {
    const res = await t.app.inject({
      url: `/api/moderation/log/${query}`,
      headers: bearer(mod.token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as PageBody<ModlogBody>;
  };
  const reportRow = (id: string) =>
    db().selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  let spamId: string;
  let firstReport: ReportBody;

  it('takes a report of another user’s message, with a snapshot of it', async () => {
    spamId = await post(author, 'Cheap watches', 'Buy **cheap** watches at example.test');
    const res = await report(rep1, spamId, { reason: 'spam' });
    expect(res.statusCode, res.body).toBe(201);
    firstReport = res.json().data as ReportBody;
    expect(firstReport).toMatchObject({
      message_id: spamId,
      board_id: boardId,
      reporter_id: rep1.id,
      reason: 'spam',
      status: 'open',
      resolved_by: null,
      resolution_note: null,
      resolved_at: null,
      message_exists: true,
      snapshot: {
        subject: 'Cheap watches',
        body: 'Buy **cheap** watches at example.test',
        author_fingerprint: authorFingerprint,
        author_nickname: 'author',
      },
      // What a moderator needs to act without typing a name: who reported, whose account to ban.
      reporter: { id: rep1.id, username: 'rep1', nickname: 'rep1' },
      author_username: 'author',
    });
    expect(await count('reports')).toBe(1);
  });

  it('refuses a second report by the same user, one’s own message, unknown messages and bad input', async () => {
    const reports = await count('reports');
    const twice = await report(rep1, spamId, { reason: 'still spam' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('ALREADY_REPORTED');

    const own = await report(author, spamId, { reason: 'oops' });
    expectFieldRefused(own, 'params.id');

    const unknown = await report(rep1, '01900000-0000-7000-8000-000000000000', { reason: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');

    const blank = await report(rep2, spamId, { reason: '   ' });
    expectFieldRefused(blank, 'body.reason');
    const extra = await report(rep2, spamId, { reason: 'spam', severity: 9 });
    expectFieldRefused(extra, 'body.severity');
    expect((await report(null, spamId, { reason: 'spam' })).statusCode).toBe(401);

    expect(await count('reports')).toBe(reports);
    expect((await reportRow(firstReport.id)).reason).toBe('spam');
  });

  it('keeps the queue, resolving, karma and the log to moderators', async () => {
    const modlogBefore = await count('modlog');
    const karmaBefore = await karma(author);
    for (const account of [rep1, author]) {
      const answers = {
        queue: await queue(account),
        resolve: await resolve(account, firstReport.id, { action: 'uphold', delete_message: true }),
        karma: await adjustKarma(account, 'author', { delta: 5, reason: 'nice' }),
        log: await t.app.inject({ url: '/api/moderation/log/', headers: bearer(account.token) }),
      };
      for (const [endpoint, res] of Object.entries(answers)) {
        expect(res.statusCode, endpoint).toBe(403);
        expect(res.json().error.code).toBe('FORBIDDEN');
      }
    }
    expect((await t.app.inject({ url: '/api/moderation/reports/' })).statusCode).toBe(401);
    expect((await reportRow(firstReport.id)).status).toBe('open');
    expect((await getMessage(spamId)).statusCode).toBe(200);
    expect(await karma(author)).toBe(karmaBefore);
    expect(await count('modlog')).toBe(modlogBefore);
  });

  it('shows moderators the open reports', async () => {
    const res = await queue(mod);
    expect(res.statusCode).toBe(200);
    const page = res.json().data as PageBody<ReportBody>;
    expect(page.items.map((r) => r.id)).toEqual([firstReport.id]);
    expect(page.items[0]).toMatchObject({ status: 'open', message_exists: true });
    expect((await queue(mod, '?status=upheld')).json().data.items).toEqual([]);
    const bad = await queue(mod, '?status=pending');
    expectFieldRefused(bad, 'querystring.status');
  });

  it('upholds with delete_message: the message goes, every report of it closes, each reporter gains karma', async () => {
    const second = await report(rep2, spamId, { reason: 'advertising' });
    expect(second.statusCode).toBe(201);
    const secondId = second.json().data.id as string;
    const [k1, k2, ka, km] = await Promise.all([
      karma(rep1),
      karma(rep2),
      karma(author),
      karma(mod),
    ]);

    const resolving = Date.now();
    const res = await resolve(mod, firstReport.id, {
      action: 'uphold',
      delete_message: true,
      note: 'spam confirmed',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      id: firstReport.id,
      status: 'upheld',
      resolved_by: mod.id,
      resolution_note: 'spam confirmed',
      message_exists: false,
    });
    const resolvedAt = Date.parse(res.json().data.resolved_at as string);
    expect(resolvedAt).toBeGreaterThanOrEqual(resolving);
    expect(resolvedAt).toBeLessThanOrEqual(Date.now());

    expect((await getMessage(spamId)).statusCode).toBe(404);
    expect(
      await db().selectFrom('messages').where('id', '=', spamId).select('id').execute(),
    ).toEqual([]);
    for (const id of [firstReport.id, secondId]) {
      const row = await reportRow(id);
      expect(row.status).toBe('upheld');
      expect(row.resolved_by).toBe(mod.id);
    }
    const upheld = (await queue(mod, '?status=upheld')).json().data as PageBody<ReportBody>;
    expect(upheld.items.map((r) => r.id).sort()).toEqual([firstReport.id, secondId].sort());
    // The snapshot keeps the queue readable after the deletion.
    expect(upheld.items[0]!.snapshot.subject).toBe('Cheap watches');
    expect((await queue(mod)).json().data.items).toEqual([]);

    expect(REPORT_KARMA).toBe(1);
    expect(await karma(rep1)).toBe(k1 + REPORT_KARMA);
    expect(await karma(rep2)).toBe(k2 + REPORT_KARMA);
    expect(await karma(author)).toBe(ka);
    expect(await karma(mod)).toBe(km);

    const log = (await modlog('?limit=2')).items;
    expect(log.map((e) => e.action)).toEqual(['delete_message', 'uphold_report']);
    expect(log[0]).toMatchObject({
      actor: { id: mod.id, name: 'mod' },
      target_type: 'message',
      target_id: spamId,
      reason: 'spam confirmed',
      details: { report: firstReport.id, subject: 'Cheap watches', author_nickname: 'author' },
    });
    expect(log[1]).toMatchObject({
      actor: { id: mod.id, name: 'mod' },
      target_type: 'report',
      target_id: firstReport.id,
      reason: 'spam confirmed',
      details: { message: spamId, reports_closed: 2, karma_each: REPORT_KARMA },
    });
  });

  let dismissedId: string;

  it('dismisses a report without karma, logging dismiss_report and keeping the message', async () => {
    const fineId = await post(author, 'Meetup on Friday', 'Who is coming?');
    const res = await report(rep1, fineId, { reason: 'I do not like Fridays' });
    expect(res.statusCode).toBe(201);
    dismissedId = res.json().data.id as string;
    const k1 = await karma(rep1);

    const dismissed = await resolve(mod, dismissedId, { action: 'dismiss', note: 'not spam' });
    expect(dismissed.statusCode, dismissed.body).toBe(200);
    expect(dismissed.json().data).toMatchObject({
      status: 'dismissed',
      resolved_by: mod.id,
      resolution_note: 'not spam',
      message_exists: true,
    });
    expect(await karma(rep1)).toBe(k1);
    expect((await getMessage(fineId)).statusCode).toBe(200);
    const [entry] = (await modlog('?limit=1')).items;
    expect(entry).toMatchObject({
      action: 'dismiss_report',
      actor: { id: mod.id, name: 'mod' },
      target_type: 'report',
      target_id: dismissedId,
      reason: 'not spam',
      details: { message: fineId },
    });
  });

  it('refuses to resolve a closed or unknown report, changing nothing', async () => {
    const modlogBefore = await count('modlog');
    const [k1, k2] = [await karma(rep1), await karma(rep2)];
    for (const [id, status] of [
      [firstReport.id, 'upheld'],
      [dismissedId, 'dismissed'],
    ] as const) {
      for (const action of ['uphold', 'dismiss']) {
        const res = await resolve(mod, id, { action, delete_message: true });
        expect(res.statusCode).toBe(409);
        expect(res.json().error.code).toBe('REPORT_CLOSED');
        expect((await reportRow(id)).status).toBe(status);
      }
    }
    const unknown = await resolve(mod, '01900000-0000-7000-8000-000000000000', {
      action: 'dismiss',
    });
    expect(unknown.statusCode).toBe(404);
    const badAction = await resolve(mod, dismissedId, { action: 'ignore' });
    expectFieldRefused(badAction, 'body.action');
    expect(await count('modlog')).toBe(modlogBefore);
    expect([await karma(rep1), await karma(rep2)]).toEqual([k1, k2]);
  });

  it('closes a report once when two moderators resolve it at the same moment', async () => {
    const id = await post(author, 'Raced', 'Reported twice, resolved twice at once');
    const r1 = (await report(rep1, id, { reason: 'spam' })).json().data.id as string;
    const r2 = (await report(rep2, id, { reason: 'spam' })).json().data.id as string;
    const [k1, k2] = [await karma(rep1), await karma(rep2)];
    const modlogBefore = await count('modlog');

    const answers = await Promise.all([
      resolve(mod, r1, { action: 'uphold', delete_message: true }),
      resolve(mod, r1, { action: 'uphold', delete_message: true }),
      resolve(mod, r2, { action: 'dismiss' }),
    ]);
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 200).length, codes.join(',')).toBeGreaterThanOrEqual(1);
    for (const a of answers) {
      if (a.statusCode !== 200) {
        expect(a.statusCode, a.body).toBe(409);
        expect(a.json().error.code).toBe('REPORT_CLOSED');
      }
    }
    // Whatever the order, each report was closed once and credited at most once.
    const rows = await Promise.all([reportRow(r1), reportRow(r2)]);
    expect(rows[0].status).toBe('upheld');
    const gained = [(await karma(rep1)) - k1, (await karma(rep2)) - k2];
    expect(gained[0]).toBe(REPORT_KARMA);
    expect(gained[1]).toBe(rows[1].status === 'upheld' ? REPORT_KARMA : 0);
    const entries = await db()
      .selectFrom('modlog')
      .select(['action', 'target_id'])
      .orderBy('id')
      .execute();
    const fresh = entries.slice(modlogBefore);
    expect(fresh.filter((e) => e.action === 'uphold_report')).toHaveLength(1);
    expect(fresh.filter((e) => e.action === 'delete_message')).toHaveLength(1);
    expect(fresh.filter((e) => e.action === 'dismiss_report').length).toBeLessThanOrEqual(1);
    expect(fresh).toHaveLength(codes.filter((c) => c === 200).length + 1);

    // Two reports of one message upheld at once, each by its own report: one wins, for both.
    const other = await post(author, 'Raced again', 'Two reports, two upholds at once');
    const o1 = (await report(rep1, other, { reason: 'spam' })).json().data.id as string;
    const o2 = (await report(rep2, other, { reason: 'spam' })).json().data.id as string;
    const [j1, j2] = [await karma(rep1), await karma(rep2)];
    const both = await Promise.all([
      resolve(mod, o1, { action: 'uphold' }),
      resolve(mod, o2, { action: 'uphold' }),
    ]);
    expect(both.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    expect((await reportRow(o1)).status).toBe('upheld');
    expect((await reportRow(o2)).status).toBe('upheld');
    expect([(await karma(rep1)) - j1, (await karma(rep2)) - j2]).toEqual([
      REPORT_KARMA,
      REPORT_KARMA,
    ]);
    expect((await getMessage(other)).statusCode).toBe(200);
  });

  it('resolves several reports at once, skipping the ones closed already or unknown', async () => {
    const bulk = (account: Account, payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/moderation/reports/resolve/',
        headers: bearer(account.token),
        payload,
      });
    const a = await post(author, 'Bulk A', 'first of three');
    const b = await post(author, 'Bulk B', 'second of three');
    const ra1 = (await report(rep1, a, { reason: 'spam' })).json().data.id as string;
    const ra2 = (await report(rep2, a, { reason: 'spam' })).json().data.id as string;
    const rb = (await report(rep1, b, { reason: 'spam' })).json().data.id as string;
    const unknown = '01900000-0000-7000-8000-000000000000';
    const before = { reports: await count('reports'), modlog: await count('modlog') };

    // Members may not, and bad input is refused; neither changes anything.
    expect((await bulk(rep1, { report_ids: [ra1], action: 'dismiss' })).statusCode).toBe(403);
    expectFieldRefused(await bulk(mod, { report_ids: [], action: 'dismiss' }), 'body.report_ids');
    const tooMany = Array.from({ length: 101 }, () => ra1);
    expectFieldRefused(
      await bulk(mod, { report_ids: tooMany, action: 'dismiss' }),
      'body.report_ids',
    );
    expect((await reportRow(ra1)).status).toBe('open');
    expect(await count('modlog')).toBe(before.modlog);

    // Upholding ra1 closes ra2 (same message): ra2 is skipped, not an error; so is the unknown id.
    const res = await bulk(mod, {
      report_ids: [ra1, ra2, rb, unknown],
      action: 'uphold',
      delete_message: true,
      note: 'cleanup',
    });
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json().data as {
      resolved: ReportBody[];
      skipped: { id: string; code: string }[];
    };
    expect(data.resolved.map((r) => [r.id, r.status, r.message_exists])).toEqual([
      [ra1, 'upheld', false],
      [rb, 'upheld', false],
    ]);
    expect(data.skipped.map((s) => [s.id, s.code])).toEqual([
      [ra2, 'REPORT_CLOSED'],
      [unknown, 'NOT_FOUND'],
    ]);
    expect((await reportRow(ra2)).status).toBe('upheld');
    expect((await getMessage(a)).statusCode).toBe(404);
    expect((await getMessage(b)).statusCode).toBe(404);
    expect(await count('reports')).toBe(before.reports);
  });

  it('adjusts karma up and down, logging each change; a zero delta is refused', async () => {
    const before = await karma(author);
    const up = await adjustKarma(mod, 'author', { delta: 5, reason: 'helpful answers' });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json().data).toMatchObject({ username: 'author', karma: before + 5 });
    const down = await adjustKarma(mod, 'Author', { delta: -2, reason: 'rude' });
    expect(down.statusCode, down.body).toBe(200);
    expect(await karma(author)).toBe(before + 3);

    const log = (await modlog('?limit=2')).items;
    expect(log.map((e) => e.action)).toEqual(['adjust_karma', 'adjust_karma']);
    expect(log[0]).toMatchObject({
      actor: { id: mod.id, name: 'mod' },
      target_type: 'user',
      target_id: author.id,
      reason: 'rude',
      details: { username: 'author', delta: -2 },
    });
    expect(log[1]).toMatchObject({ reason: 'helpful answers', details: { delta: 5 } });

    const modlogBefore = await count('modlog');
    const zero = await adjustKarma(mod, 'author', { delta: 0, reason: 'nothing' });
    expectFieldRefused(zero, 'body.delta');
    const fraction = await adjustKarma(mod, 'author', { delta: 1.5, reason: 'half' });
    expectFieldRefused(fraction, 'body.delta');
    const noReason = await adjustKarma(mod, 'author', { delta: 1 });
    expectFieldRefused(noReason, 'body.reason');
    const nobody = await adjustKarma(mod, 'nobody_at_all', { delta: 1, reason: 'x' });
    expect(nobody.statusCode).toBe(404);
    expect(await karma(author)).toBe(before + 3);
    expect(await count('modlog')).toBe(modlogBefore);
  });

  it('logs a moderator deleting another’s message with its reason; a normal user gets 403', async () => {
    const id = await post(author, 'Off topic', 'Something for another board');
    const modlogBefore = await count('modlog');
    const messagesBefore = await count('messages');

    const byUser = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/?reason=spam`,
      headers: bearer(rep2.token),
    });
    expect(byUser.statusCode).toBe(403);
    expect(byUser.json().error.code).toBe('FORBIDDEN');
    expect((await getMessage(id)).statusCode).toBe(200);
    expect(await count('messages')).toBe(messagesBefore);
    expect(await count('modlog')).toBe(modlogBefore);

    const byMod = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/?reason=spam`,
      headers: bearer(mod.token),
    });
    expect(byMod.statusCode, byMod.body).toBe(200);
    expect((await getMessage(id)).statusCode).toBe(404);
    const [entry] = (await modlog('?limit=1')).items;
    expect(entry).toMatchObject({
      action: 'delete_message',
      actor: { id: mod.id, name: 'mod' },
      target_type: 'message',
      target_id: id,
      reason: 'spam',
      details: { board: 'general', author: authorFingerprint, subject: 'Off topic' },
    });

    // An author deleting their own message is no moderation action.
    const own = await post(author, 'Mine', 'I take this back');
    const byAuthor = await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${own}/`,
      headers: bearer(author.token),
    });
    expect(byAuthor.statusCode).toBe(200);
    expect(await count('modlog')).toBe(modlogBefore + 1);
  });

  it('logs bans and unbans', async () => {
    const ban = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/users/rep2/ban/',
      headers: bearer(mod.token),
      payload: { reason: 'report abuse', duration_seconds: 3600 },
    });
    expect(ban.statusCode, ban.body).toBe(200);
    const unban = await t.app.inject({
      method: 'POST',
      url: '/api/moderation/users/rep2/unban/',
      headers: bearer(mod.token),
    });
    expect(unban.statusCode).toBe(200);
    const log = (await modlog('?limit=2')).items;
    expect(log.map((e) => e.action)).toEqual(['unban_user', 'ban_user']);
    expect(log[1]).toMatchObject({ actor: { id: mod.id, name: 'mod' }, reason: 'report abuse' });
  });

  it('walks the modlog with limit=1, newest first, every entry once', async () => {
    const all = await modlog('?limit=100');
    expect(all.next_cursor).toBeNull();
    expect(all.items.length).toBeGreaterThanOrEqual(10);
    expect(all.items.length).toBe(await count('modlog'));

    const walked: ModlogBody[] = [];
    let cursor: string | null = null;
    do {
      const page: PageBody<ModlogBody> = await modlog(
        `?limit=1${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(page.items.length).toBe(1);
      walked.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);

    expect(walked.map((e) => e.id)).toEqual(all.items.map((e) => e.id));
    expect(new Set(walked.map((e) => e.id)).size).toBe(walked.length);
    const ids = walked.map((e) => e.id);
    expect(ids).toEqual([...ids].sort().reverse());
    const times = walked.map((e) => new Date(e.created_at).getTime());
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1]!);
    expect(walked.at(-1)!.action).toBe('uphold_report');
  });
});
