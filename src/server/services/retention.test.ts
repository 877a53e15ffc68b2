// Message retention on SQLite and PostgreSQL: runRetention deletes exactly the messages older than
// their board's message_retention_days (none on keep-forever boards), drops them from search, is
// idempotent, and `axon cleanup` (as a child process) does the same and says how many it deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  createBoard,
  postMessage,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../test-support/app.js';
import { runAxon } from '../../test-support/axon-process.js';
import { DIALECTS } from '../../test-support/databases.js';
import { runRetention } from './retention.js';

const DAY_MS = 86_400_000;

describe.each(DIALECTS)('message retention on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let shortBoard: string;
  let foreverBoard: string;
  /** Message ids by what the test expects of them. */
  const expired: string[] = [];
  const kept: string[] = [];
  const word = (label: string) => `${label}${dialect}${process.pid}`;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    sysop = await registerUser(t.app, 'sysop');
    await promote(t, 'sysop', 'sysop');
  });
  afterAll(() => t.close());

  const makeBoard = (payload: Record<string, unknown>) => createBoard(t, sysop.token, payload);
  const post = async (
    boardId: string,
    subject: string,
    body: string,
    parentId?: string,
  ): Promise<string> =>
    postMessage(t, sysop.token, {
      board_id: boardId,
      subject,
      body,
      ...(parentId ? { parent_id: parentId } : {}),
    });
  /** Moves messages' created_at into the past, as if they had been posted then. */
  const age = (ids: string[], ms: number) =>
    t.ctx.database.db
      .updateTable('messages')
      .set({ created_at: Date.now() - ms })
      .where('id', 'in', ids)
      .execute();
  const status = async (id: string) =>
    (await t.app.inject({ url: `/api/messages/${id}/` })).statusCode;
  const search = async (q: string): Promise<string[]> => {
    const res = await t.app.inject({ url: `/api/search/?q=${encodeURIComponent(q)}` });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().data.items as Array<{ message: { id: string } }>).map((h) => h.message.id);
  };
  const messageIds = async (boardId: string) =>
    (
      await t.ctx.database.db
        .selectFrom('messages')
        .select('id')
        .where('board_id', '=', boardId)
        .execute()
    )
      .map((r) => r.id)
      .sort();

  it('deletes exactly the expired messages of a board with a retention period', async () => {
    shortBoard = await makeBoard({ name: 'ephemeral', message_retention_days: 1 });
    foreverBoard = await makeBoard({ name: 'archive', message_retention_days: null });
    const boards = (await t.app.inject({ url: '/api/boards/' })).json().data.items as Array<{
      name: string;
      message_retention_days: number | null;
    }>;
    expect(Object.fromEntries(boards.map((b) => [b.name, b.message_retention_days]))).toMatchObject(
      { ephemeral: 1, archive: null },
    );

    // On the one-day board: three posted two days ago (one a thread with a fresh reply), one
    // 23 hours ago, and one just now.
    const oldThread = await post(shortBoard, 'Old thread', `about ${word('oldthread')}`);
    const oldA = await post(shortBoard, 'Old news', `body with ${word('expiredword')} inside`);
    const oldB = await post(shortBoard, `Subject ${word('expiredsubject')}`, 'old body');
    const freshReply = await post(shortBoard, 'Re: Old thread', 'a reply from today', oldThread);
    const almost = await post(shortBoard, 'Nearly a day', 'posted 23 hours ago');
    const fresh = await post(shortBoard, 'Fresh', `body with ${word('freshword')}`);
    // On the keep-forever board: old and new alike stay.
    const ancient = await post(foreverBoard, 'Ancient', `body with ${word('ancientword')}`);
    const ancient2 = await post(foreverBoard, 'Ancient 2', 'kept for good');
    const modern = await post(foreverBoard, 'Modern', 'kept too');
    await age([oldThread, oldA, oldB, ancient, ancient2], 2 * DAY_MS);
    await age([almost], 23 * 3600 * 1000);
    await t.ctx.database.db
      .updateTable('messages')
      .set({ created_at: Date.now() - 400 * DAY_MS })
      .where('id', '=', ancient2)
      .execute();
    expired.push(oldThread, oldA, oldB);
    kept.push(freshReply, almost, fresh, ancient, ancient2, modern);

    expect(await search(word('expiredword'))).toEqual([oldA]);
    expect(await search(word('expiredsubject'))).toEqual([oldB]);

    const result = await runRetention(t.ctx.database);
    expect(result).toEqual({ messagesDeleted: 3, byBoard: { ephemeral: 3 } });

    for (const id of expired) expect(await status(id), `expired ${id}`).toBe(404);
    for (const id of kept) expect(await status(id), `kept ${id}`).toBe(200);
    expect(await messageIds(shortBoard)).toEqual([freshReply, almost, fresh].sort());
    expect(await messageIds(foreverBoard)).toEqual([ancient, ancient2, modern].sort());

    // The author's key stays: the account and its other messages still use it.
    const user = await t.ctx.accounts.getUserByUsername('sysop');
    const keys = await t.ctx.database.db
      .selectFrom('pubkeys')
      .select('fingerprint')
      .where('fingerprint', '=', user.fingerprint)
      .execute();
    expect(keys).toHaveLength(1);
    const reply = await t.app.inject({ url: `/api/messages/${freshReply}/` });
    expect(reply.json().data.message.signature_valid).toBe(true);
  });

  it('drops deleted messages from search and keeps the rest findable', async () => {
    expect(await search(word('expiredword'))).toEqual([]);
    expect(await search(word('expiredsubject'))).toEqual([]);
    expect(await search(word('oldthread'))).toEqual([]);
    expect(await search(word('freshword'))).toHaveLength(1);
    expect(await search(word('ancientword'))).toEqual([kept[3]]);
  });

  it('deletes nothing when run again', async () => {
    const before = [await messageIds(shortBoard), await messageIds(foreverBoard)];
    expect(await runRetention(t.ctx.database)).toEqual({ messagesDeleted: 0, byBoard: {} });
    expect([await messageIds(shortBoard), await messageIds(foreverBoard)]).toEqual(before);
  });

  it('runs as `axon cleanup` and reports the count', async () => {
    const stale = await post(shortBoard, 'Stale', `body with ${word('staleword')}`);
    const stale2 = await post(shortBoard, 'Stale 2', 'also old');
    await age([stale, stale2], 3 * DAY_MS);
    expect(await search(word('staleword'))).toEqual([stale]);
    const env = { DATABASE_URL: t.db.url, AXON_DATA_DIR: t.db.dir, LOG_LEVEL: 'warn' };

    const first = await runAxon(['cleanup'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('deleted 2 expired message(s)');
    expect(first.stdout.split('\n')[0]).toBe('deleted 2 expired message(s) (ephemeral: 2)');
    expect(first.stdout).toMatch(
      /removed \d+ unreferenced attachment\(s\), \d+ manifest\(s\), \d+ blob\(s\)/,
    );
    expect(await status(stale)).toBe(404);
    expect(await status(stale2)).toBe(404);
    expect(await search(word('staleword'))).toEqual([]);
    for (const id of kept) expect(await status(id)).toBe(200);

    const second = await runAxon(['cleanup'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout.split('\n')[0]).toBe('deleted 0 expired message(s)');
  });
});
