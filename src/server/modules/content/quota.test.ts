// The per-account upload quota (AXON_UPLOAD_QUOTA_BYTES / _FILES) on SQLite and PostgreSQL: an
// upload that would pass it is refused with 413 UPLOAD_QUOTA_EXCEEDED and nothing is recorded;
// each account has its own.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  countRows,
  injectUpload,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

describe.each(DIALECTS)('upload quota on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect, {
      AXON_UPLOAD_QUOTA_BYTES: '1000',
      AXON_UPLOAD_QUOTA_FILES: '2',
    });
    [alice, bob] = await Promise.all([registerUser(t.app, 'alice'), registerUser(t.app, 'bob')]);
  });
  afterAll(() => t.close());

  const upload = (who: Account, size: number) => {
    return injectUpload(t, who.token, randomBytes(size));
  };
  const refused = async (res: Awaited<ReturnType<typeof upload>>, before: number) => {
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('UPLOAD_QUOTA_EXCEEDED');
    expect(res.json().error.details).toEqual({ max_files: 2, max_bytes: 1000 });
    expect(await countRows(t, 'attachments')).toBe(before);
  };

  it('refuses the upload that would pass the byte quota, keeping nothing', async () => {
    expect((await upload(alice, 600)).statusCode).toBe(201);
    await refused(await upload(alice, 401), await countRows(t, 'attachments'));
    expect((await upload(alice, 400)).statusCode).toBe(201);
  });

  it('refuses a file past the file quota, and counts each account on its own', async () => {
    await refused(await upload(alice, 1), await countRows(t, 'attachments'));
    expect((await upload(bob, 1000)).statusCode).toBe(201);
  });
});
