// Claims of shared background jobs on SQLite and PostgreSQL: of two database handles (two
// processes) asking at once, exactly one may run the job; nobody may again before the interval has
// passed; runs and failures are counted and the last failure's message kept until a run succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonDatabase } from '../db/database.js';
import { openDatabase } from '../db/database.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test-support/databases.js';
import { JobClaims } from './job-claims.js';
import { sharedPeriodicService } from './registry.js';

const HOUR = 3_600_000;

describe.each(DIALECTS)('background job claims on %s', (dialect) => {
  let test: TestDatabase;
  let first: AxonDatabase;
  let second: AxonDatabase;
  let a: JobClaims;
  let b: JobClaims;

  beforeAll(async () => {
    ({ test, database: first } = await openTestDatabase(dialect));
    second = openDatabase(test.config);
    a = new JobClaims(first);
    b = new JobClaims(second);
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await test.drop();
  });

  it('lets exactly one of many simultaneous askers run a job, once per interval', async () => {
    const now = 1_000_000;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).claim('cleanup', HOUR, now)),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await a.claim('cleanup', HOUR, now + HOUR - 1)).toBe(false);
    expect(await b.claim('cleanup', HOUR, now + HOUR)).toBe(true);
    expect((await a.list()).find((j) => j.name === 'cleanup')?.runs).toBe(2);
  });

  it('counts failures and keeps the last message until a run succeeds', async () => {
    expect(await a.claim('flaky', HOUR, 5)).toBe(true);
    await a.finished('flaky', new Error('disk on fire'), 6);
    let job = (await b.list()).find((j) => j.name === 'flaky')!;
    expect(job).toMatchObject({ runs: 1, failures: 1, last_error: 'disk on fire' });
    expect(await b.claim('flaky', HOUR, 5 + HOUR)).toBe(true);
    await b.finished('flaky', undefined, 7 + HOUR);
    job = (await a.list()).find((j) => j.name === 'flaky')!;
    expect(job).toMatchObject({
      runs: 2,
      failures: 1,
      last_error: null,
      last_finished_at: 7 + HOUR,
    });
  });

  it('runs a shared service in one of two processes and records its failure', async () => {
    const ran: string[] = [];
    const errors: unknown[] = [];
    const services = (['a', 'b'] as const).map((who) =>
      sharedPeriodicService(
        'shared-task',
        HOUR,
        async () => {
          ran.push(who);
          throw new Error(`failed in ${who}`);
        },
        (error) => errors.push(error),
        who === 'a' ? a : b,
      ),
    );
    for (const service of services) service.start();
    const job = async () => (await a.list()).find((j) => j.name === 'shared-task');
    while ((await job())?.last_error == null) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(services.map((s) => s.stop()));
    expect(ran).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(await job()).toMatchObject({ runs: 1, failures: 1, last_error: `failed in ${ran[0]}` });
  });
});
