// Which file name a reader of deduplicated content sees, on SQLite and PostgreSQL: their own
// upload's, else the one the message they read carries — never another uploader's.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  uploadFile,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardInput } from '../boards/schema.js';

describe.each(DIALECTS)('file names of shared content on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let board: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [alice, bob, carol] = await registerUsers(t, ['alice', 'bob', 'carol']);
    board = (await t.ctx.boards.create(BoardInput.parse({ name: 'general' }))).id;
  });
  afterAll(() => t.close());

  const upload = async (who: Account, bytes: Buffer, filename: string) => {
    return uploadFile(t, who.token, bytes, filename);
  };
  const nameFor = async (hash: string, who?: Account) => {
    const res = await t.app.inject({
      url: `/api/content/metadata/${hash}/`,
      ...(who === undefined ? {} : { headers: bearer(who.token) }),
    });
    expect(res.statusCode).toBe(200);
    return res.json().data.filename as string;
  };

  it("never shows one uploader's file name to readers of another's message", async () => {
    const bytes = randomBytes(2000);
    const hash = await upload(alice, bytes, 'alice-medical-results.pdf');
    expect(await upload(bob, bytes, 'holiday.pdf')).toBe(hash);
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(bob.token),
      payload: { board_id: board, subject: 'holiday', body: 'see attached', attachments: [hash] },
    });
    expect(post.statusCode).toBe(201);

    expect(await nameFor(hash, carol)).toBe('holiday.pdf');
    expect(await nameFor(hash)).toBe('holiday.pdf');
    expect(await nameFor(hash, alice)).toBe('alice-medical-results.pdf');
    const stream = await t.app.inject({ url: `/api/content/stream/${hash}/` });
    expect(stream.headers['content-disposition']).toContain('holiday.pdf');
    expect(stream.body).not.toContain('alice');
  });
});
