// The login slowdown's counters live in the database, on SQLite and on PostgreSQL: two throttles
// (as two processes would hold) on one database count the same attempts, a success forgets them,
// and a window that is over is pruned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonDatabase } from '../db/database.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../test-support/databases.js';
import { ATTEMPT_WINDOW_MS, AttemptCounters, AttemptThrottle } from './rate-limits.js';

describe.each(DIALECTS)('attempt counters on %s', (dialect) => {
  let test: TestDatabase;
  let database: AxonDatabase;

  beforeAll(async () => {
    ({ test, database } = await openTestDatabase(dialect));
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  const throttle = () =>
    new AttemptThrottle({ freePerMinute: 1, maxDelayed: 1 }, new AttemptCounters(database));

  it('are shared by every throttle on the database, as by every process', async () => {
    const first = throttle();
    const second = throttle();
    // The one free attempt on this name is spent through the first throttle...
    await first.pass('login', 'shared');
    // ...so the second sees its attempts as the 2nd and 3rd: both slowed down, and with one
    // place in its delayed line, one of them is refused.
    const results = await Promise.allSettled([
      second.pass('login', 'shared'),
      second.pass('login', 'shared'),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      status: 503,
      code: 'SERVER_BUSY',
    });
  });

  it('count apart per action and name, forget a name on success, and prune windows that are over', async () => {
    const counters = new AttemptCounters(database);
    const now = Date.now();
    expect(await counters.add('login:a', now)).toBe(1);
    expect(await counters.add('login:a', now + 1)).toBe(2);
    expect(await counters.add('recovery:a', now + 1)).toBe(1);
    await counters.forget('login:a');
    expect(await counters.add('login:a', now + 2)).toBe(1);
    // A new window starts once the last one is over.
    expect(await counters.add('login:a', now + 2 + ATTEMPT_WINDOW_MS)).toBe(1);
    expect(await counters.add('login:a', now + 3 + ATTEMPT_WINDOW_MS)).toBe(2);
    const left = async () =>
      (await database.db.selectFrom('attempt_counters').select('key').execute()).map((r) => r.key);
    expect(await counters.prune(now + 2 * ATTEMPT_WINDOW_MS)).toBeGreaterThanOrEqual(1);
    expect(await left()).toEqual(['login:a']);
  });
});
