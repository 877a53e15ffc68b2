// Rate limits for the expensive or guessable endpoints (login, registration, recovery, password
// change), counted in the database so every process of an instance shares them. Keys are hashed:
// no IP address or username is kept in clear. Behind Tor every client shares one address, so no
// limit keys on the address, and none on anything a client may change at will (a made-up
// Authorization header once gave unlimited registrations): registration is limited for the whole
// instance and costs a proof of work; login and recovery are slowed down per account name, never
// refused, so a stranger guessing cannot keep the owner out (docs/security.md, "Rate limits").
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { AxonDatabase } from '../db/database.js';
import { serverBusy } from '../work-budget.js';
import { AppError } from './errors.js';

const digest = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);

export interface AttemptDelays {
  /** Attempts per account name per minute answered without delay. */
  freePerMinute: number;
  /** Delayed attempts that may wait at once in this process; one more gets 503 SERVER_BUSY. */
  maxDelayed: number;
}

/** The first delay past the free attempts; each further attempt doubles it, up to the cap. */
export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 10_000;
export const ATTEMPT_WINDOW_MS = 60_000;

/**
 * Attempt counters in the database, so every process of an instance counts the same attempts.
 * One statement adds an attempt (starting a new window when the last one is over) and reads the
 * count, so two processes counting at once never lose an attempt.
 */
export class AttemptCounters {
  constructor(private readonly database: AxonDatabase) {}

  /** Adds one attempt on `key` and answers how many the current window holds. */
  async add(key: string, now: number): Promise<number> {
    const over = now - ATTEMPT_WINDOW_MS;
    const row = await this.database.db
      .insertInto('attempt_counters')
      .values({ key, window_start: now, attempts: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          attempts: sql<number>`CASE WHEN attempt_counters.window_start <= ${over} THEN 1 ELSE attempt_counters.attempts + 1 END`,
          window_start: sql<number>`CASE WHEN attempt_counters.window_start <= ${over} THEN ${now} ELSE attempt_counters.window_start END`,
        }),
      )
      .returning('attempts')
      .executeTakeFirstOrThrow();
    return Number(row.attempts);
  }

  /** The attempts the current window of `key` holds, without adding one (0 when it is over). */
  async peek(key: string, now: number): Promise<number> {
    const row = await this.database.db
      .selectFrom('attempt_counters')
      .select(['attempts', 'window_start'])
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined || Number(row.window_start) <= now - ATTEMPT_WINDOW_MS
      ? 0
      : Number(row.attempts);
  }

  /**
   * Marks `key` as taken until `until` (it is pruned a window after): true for the first caller
   * in any process, false for every later one. One statement, so two processes never both win.
   */
  async claimOnce(key: string, until: number): Promise<boolean> {
    const row = await this.database.db
      .insertInto('attempt_counters')
      .values({ key, window_start: until, attempts: 1 })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Adds an attempt on `key` and refuses (429 RATE_LIMITED) past `perMinute` in the window:
   * a limit every process of the instance shares.
   */
  async limit(key: string, perMinute: number, what: string, now = Date.now()): Promise<void> {
    if ((await this.add(key, now)) > perMinute)
      throw new AppError(
        429,
        'RATE_LIMITED',
        `too many ${what}; try again in a minute`,
        undefined,
        {
          'Retry-After': '60',
        },
      );
  }

  async forget(key: string): Promise<void> {
    await this.database.db.deleteFrom('attempt_counters').where('key', '=', key).execute();
  }

  /** Drops the counters whose window is over (a periodic service calls this). */
  async prune(now = Date.now()): Promise<number> {
    const result = await this.database.db
      .deleteFrom('attempt_counters')
      .where('window_start', '<=', now - ATTEMPT_WINDOW_MS)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * Per-account-name slowdown for login and recovery. Past the free attempts of the minute, each
 * attempt waits 250 ms × 2^k (k = attempts past the free ones, minus one), at most 10 s, and is then
 * answered as usual: the right password still gets in. The wait is a timer, not a worker; how many
 * attempts may wait at once is bounded.
 */
export class AttemptThrottle {
  private waiting = 0;

  constructor(
    private readonly limits: AttemptDelays,
    private readonly counters: AttemptCounters,
  ) {}

  /** Attempts waiting out their delay now (for tests and metrics). */
  get delayed(): number {
    return this.waiting;
  }

  /** Counts an attempt on `name` for `action` and waits out its delay, if any. */
  async pass(action: string, name: string): Promise<void> {
    const attempts = await this.counters.add(`${action}:${digest(name)}`, Date.now());
    const delay = delayFor(attempts - this.limits.freePerMinute);
    if (delay === 0) return;
    if (this.waiting >= this.limits.maxDelayed) {
      throw serverBusy('too many slowed-down attempts are waiting; retry shortly');
    }
    this.waiting++;
    try {
      await sleep(delay);
    } finally {
      this.waiting--;
    }
  }

  /** A success ends the slowdown for that name: the owner's next login is not kept waiting. */
  async forgive(action: string, name: string): Promise<void> {
    await this.counters.forget(`${action}:${digest(name)}`);
  }
}

/** The wait for an attempt `past` attempts beyond the free ones (none for 0 or fewer). */
function delayFor(past: number): number {
  if (past <= 0) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(past - 1, 16));
}
