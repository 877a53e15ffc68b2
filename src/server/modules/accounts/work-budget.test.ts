// The work budget through Fastify inject, on SQLite and on PostgreSQL: with one slot and one place
// in line, a burst of sign-ups and logins is partly refused with 503 SERVER_BUSY before any work,
// the refused requests change nothing, and the next request once the line is empty is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  injectedProof,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

describe.each(DIALECTS)('work budget on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_WORK_CONCURRENCY: '1', AXON_WORK_QUEUE: '1' });
    await registerUser(t.app, 'owner', 'owner password 1');
  });
  afterAll(() => t.close());

  const expectBusy = (answer: {
    statusCode: number;
    headers: Record<string, unknown>;
    json(): unknown;
  }) => {
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toMatchObject({
      success: false,
      data: null,
      error: { code: 'SERVER_BUSY' },
    });
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
  };
  const register = async (name: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: {
        username: name,
        password: 'a long enough password',
        ...(await injectedProof(t.app)),
      },
    });
  const login = (password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'owner', password },
    });
  const userNames = async () =>
    (await t.ctx.database.db.selectFrom('users').select('username').execute()).map(
      (row) => row.username,
    );

  it('refuses sign-ups past the line with 503 SERVER_BUSY and Retry-After, creating nothing', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `burst${i}`);
    const answers = await Promise.all(names.map(register));
    const served = names.filter((_, i) => answers[i]!.statusCode === 201);
    const refused = answers.filter((a) => a.statusCode !== 201);
    // One runs, one waits: at least the other four are refused.
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const answer of refused) expectBusy(answer);
    expect((await userNames()).filter((n) => n.startsWith('burst')).sort()).toEqual(served);
    expect(t.ctx.accounts.work.load).toEqual({ running: 0, waiting: 0 });
    // The line is empty again: a refused name signs up now.
    const late = names.find((n) => !served.includes(n))!;
    expect((await register(late)).statusCode).toBe(201);
  });

  it('refuses logins past the line the same way, creating no session, and serves the next one', async () => {
    // The slot and the place in line are held by two jobs that end when the test says so, so the
    // burst meets a full line whatever the database's and Argon2id's timing.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holders = [t.ctx.accounts.work.run(() => held), t.ctx.accounts.work.run(() => held)];
    expect(t.ctx.accounts.work.load).toEqual({ running: 1, waiting: 1 });
    const sessionCount = async () =>
      (
        await t.ctx.database.db
          .selectFrom('sessions')
          .innerJoin('users', 'users.id', 'sessions.user_id')
          .where('users.username', '=', 'owner')
          .select('sessions.id_hash')
          .execute()
      ).length;
    const before = await sessionCount();

    const answers = await Promise.all(Array.from({ length: 6 }, () => login('owner password 1')));
    for (const answer of answers) expectBusy(answer);
    expect(await sessionCount()).toBe(before);

    release();
    await Promise.all(holders);
    expect(t.ctx.accounts.work.load).toEqual({ running: 0, waiting: 0 });
    expect((await login('owner password 1')).statusCode).toBe(200);
    expect(await sessionCount()).toBe(before + 1);
  });
});
