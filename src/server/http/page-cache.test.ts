// The board-page micro-cache stays within its byte bound however many distinct pages anonymous
// visitors ask for (cursors past the newest message all show the same big page under new keys),
// still answers repeats from memory, and drops a board's pages when the board changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../test-support/app.js';
import { DIALECTS } from '../../test-support/databases.js';
import { encodeCursor } from './pagination.js';
import { ByteCache } from '../services/byte-cache.js';

const BOUND = 256 * 1024;

describe.each(DIALECTS)('the page cache on %s', (dialect) => {
  let t: TestApp;
  let board: string;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_PAGE_CACHE_BYTES: String(BOUND) });
    const sysop = await registerUser(t.app, 'cacheroot');
    await promote(t, sysop.username, 'sysop');
    token = sysop.token;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/boards/',
      headers: bearer(token),
      payload: { name: 'Cached' },
    });
    board = res.json().data.id;
    for (let i = 0; i < 20; i++) {
      const posted = await t.app.inject({
        method: 'POST',
        url: '/api/messages/',
        headers: bearer(token),
        payload: { board_id: board, subject: `m${i}`, body: 'x'.repeat(3000) },
      });
      expect(posted.statusCode, posted.body).toBe(201);
    }
  });
  afterAll(() => t.close());

  const page = (seq: number) =>
    t.app.inject({
      url: `/api/boards/${board}/messages/?limit=100&cursor=${encodeCursor([seq])}`,
    });

  it('holds no more than its byte bound for many distinct cursors, and still hits', async () => {
    let served = 0;
    for (let i = 0; i < 120; i++) {
      const res = await page(1_000_000_000 + i);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.items).toHaveLength(20);
      served += res.rawPayload.length;
    }
    // Unbounded, the cache would hold every one of these pages (~60 KiB each).
    expect(served).toBeGreaterThan(20 * BOUND);
    expect(t.ctx.pageCache.bytes).toBeGreaterThan(0);
    expect(t.ctx.pageCache.bytes).toBeLessThanOrEqual(BOUND);
    const again = await page(1_000_000_000 + 119);
    expect(again.headers['x-cache']).toBe('hit');
    const evicted = await page(1_000_000_000);
    expect(evicted.headers['x-cache']).toBe('miss');
  });

  it("drops a board's pages when something is posted there", async () => {
    await page(5);
    expect((await page(5)).headers['x-cache']).toBe('hit');
    await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(token),
      payload: { board_id: board, subject: 'new', body: 'new' },
    });
    expect((await page(5)).headers['x-cache']).toBe('miss');
  });
});

describe('ByteCache', () => {
  it('expires entries on its own and evicts the oldest to stay within its bound', () => {
    const removed: string[] = [];
    const cache = new ByteCache<Buffer>({
      maxBytes: 1000,
      ttlMs: 50,
      sizeOf: (b) => b.length,
      onRemove: (k) => removed.push(k),
    });
    cache.set('a', Buffer.alloc(300), 0);
    cache.set('b', Buffer.alloc(300), 10);
    cache.set('c', Buffer.alloc(300), 20);
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    expect(cache.get('a', 20)).toBeUndefined();
    expect(cache.get('c', 20)).toHaveLength(300);
    // Past its time an entry is gone, even if nothing pushed it out.
    expect(cache.get('b', 61)).toBeUndefined();
    // One value larger than the whole bound is never kept.
    cache.set('huge', Buffer.alloc(2000), 30);
    expect(cache.get('huge', 30)).toBeUndefined();
    cache.clear();
    expect(cache.bytes).toBe(0);
    expect(removed.sort()).toEqual(['a', 'b', 'c']);
  });
});
