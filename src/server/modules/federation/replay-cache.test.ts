// The federation replay cache on SQLite and PostgreSQL: a (key, nonce) pair is accepted once, the
// table is shared by every process on the database (two racing on one pair: exactly one wins), and
// prune forgets pairs older than the replay window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type AxonDatabase } from '../../db/database.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../../../test-support/databases.js';
import { REPLAY_WINDOW_MS, ReplayCache } from './replay-cache.js';

describe.each(DIALECTS)('replay cache on %s', (dialect) => {
  let test: TestDatabase;
  let database: AxonDatabase;
  let cache: ReplayCache;

  beforeAll(async () => {
    ({ test, database } = await openTestDatabase(dialect));
    cache = new ReplayCache(database);
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  it('accepts a pair once, then reports it as a replay', async () => {
    expect(await cache.remember('key-a', 'nonce-1')).toBe(true);
    expect(await cache.remember('key-a', 'nonce-1')).toBe(false);
    // The same nonce under another key is another pair.
    expect(await cache.remember('key-b', 'nonce-1')).toBe(true);
  });

  it('answers each pair of a burst committed together, a replay inside the burst included', async () => {
    const burst = await Promise.all([
      cache.remember('key-e', 'n2'),
      cache.remember('key-e', 'n1'),
      cache.remember('key-e', 'n2'),
      cache.remember('key-f', 'n1'),
    ]);
    expect(burst).toEqual([true, true, false, true]);
    expect(await cache.remember('key-e', 'n1')).toBe(false);
  });

  it('is shared by every process on the database: a second connection sees the pair', async () => {
    const other = openDatabase(test.config);
    try {
      expect(await new ReplayCache(other).remember('key-a', 'nonce-1')).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('two processes racing on the same pair: exactly one wins', async () => {
    const other = openDatabase(test.config);
    try {
      const results = await Promise.all([
        cache.remember('key-c', 'raced'),
        new ReplayCache(other).remember('key-c', 'raced'),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('prune forgets pairs older than the window and keeps the rest', async () => {
    const now = Date.now();
    await cache.remember('key-d', 'old', now - REPLAY_WINDOW_MS - 1);
    await cache.remember('key-d', 'edge', now - REPLAY_WINDOW_MS);
    expect(await cache.prune(now)).toBe(1);
    expect(await cache.remember('key-d', 'old', now)).toBe(true);
    expect(await cache.remember('key-d', 'edge', now)).toBe(false);
  });
});
