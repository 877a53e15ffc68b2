// Invisible format characters (\p{Cf}: bidi controls, zero-width joiners) in names and subjects,
// through the API on SQLite and PostgreSQL: a clear field error, and nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  injectUpload,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardInput } from './schema.js';

const RLO = '\u202e'; // right-to-left override: "photo\u202egpj.exe" shows as "photoexe.jpg"
const ZWSP = '\u200b';

describe.each(DIALECTS)('format characters on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let board: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    sysop = await registerUser(t.app, 'sysop');
    await promote(t, 'sysop', 'sysop');
    board = (await t.ctx.boards.create(BoardInput.parse({ name: 'general' }))).id;
  });
  afterAll(() => t.close());

  const count = (table: 'messages' | 'boards' | 'attachments') => countRows(t, table);
  const refusedField = (res: { statusCode: number; json(): unknown }, field: string) => {
    expect(res.statusCode).toBe(400);
    const body = res.json() as {
      error: { code: string; details: { fields: { field: string; message: string }[] } };
    };
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.details.fields[0]).toMatchObject({
      field,
      message: expect.stringContaining('format characters'),
    });
  };

  it('refuses them in message subjects, and keeps them allowed in bodies', async () => {
    const before = await count('messages');
    const post = (subject: string, body: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/messages/',
        headers: bearer(sysop.token),
        payload: { board_id: board, subject, body },
      });
    refusedField(await post(`invoice${RLO}fdp.exe`, 'see attached'), 'body.subject');
    refusedField(await post(`hello${ZWSP}`, 'hi'), 'body.subject');
    expect(await count('messages')).toBe(before);
    // Emoji sequences need the zero-width joiner: the body is prose, not a name.
    expect((await post('family', 'family: 👩\u200d👩\u200d👧')).statusCode).toBe(201);
  });

  it('refuses them in board names', async () => {
    const before = await count('boards');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/boards/',
      headers: bearer(sysop.token),
      payload: { name: `gen${ZWSP}eral` },
    });
    refusedField(res, 'body.name');
    expect(await count('boards')).toBe(before);
  });

  it('refuses them in uploaded file names', async () => {
    const before = await count('attachments');
    const res = await injectUpload(t, sysop.token, Buffer.from('MZ'), `photo${RLO}gpj.exe`);
    refusedField(res, 'body.file');
    expect(await count('attachments')).toBe(before);
  });
});
