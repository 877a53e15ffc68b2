// The board-page micro-cache holds only the pages every reader shares (a board's first page): pages
// after a cursor and pages that follow a reader's ignore list are served uncached, so nobody can
// fill it with keys. It stays within its byte bound across every first page there is, still answers
// repeats from memory, and drops a board's pages when the board changes (every board's on a change
// announced elsewhere, such as a ban; none on a room's). SharedAnswers makes each answer once per
// shared object and key, and keeps a bounded number of keys per object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createBoard,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { encodeCursor } from '../../http/pagination.js';
import { ByteCache } from '../../services/byte-cache.js';
import { MAX_SHARED_KEYS, SharedAnswers } from './answer-cache.js';

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
    board = await createBoard(t, token, { name: 'Cached' });
    for (let i = 0; i < 40; i++) {
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

  const first = (limit: number, order = 'newest', headers: Record<string, string> = {}) =>
    t.app.inject({ url: `/api/boards/${board}/messages/?limit=${limit}&order=${order}`, headers });

  it('holds no more than its byte bound across every first page, and still hits', async () => {
    let served = 0;
    for (const order of ['newest', 'oldest'])
      for (let limit = 1; limit <= 100; limit++) {
        const res = await first(limit, order);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().data.items).toHaveLength(Math.min(limit, 40));
        served += res.rawPayload.length;
      }
    // Unbounded, the cache would hold every one of these pages (up to ~120 KiB each).
    expect(served).toBeGreaterThan(20 * BOUND);
    expect(t.ctx.realtime.pages.bytes).toBeGreaterThan(0);
    expect(t.ctx.realtime.pages.bytes).toBeLessThanOrEqual(BOUND);
    expect((await first(100, 'oldest')).headers['x-cache']).toBe('hit');
    expect((await first(1, 'newest')).headers['x-cache']).toBe('miss');
  });

  it('serves pages after a cursor and pages following an ignore list uncached', async () => {
    const bytes = t.ctx.realtime.pages.bytes;
    for (let i = 0; i < 50; i++) {
      const res = await t.app.inject({
        url: `/api/boards/${board}/messages/?limit=100&cursor=${encodeCursor([1_000_000_000 + i])}`,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().data.items).toHaveLength(40);
      expect(res.headers['x-cache']).toBeUndefined();
    }
    const reader = await registerUser(t.app);
    const ignored = await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(reader.token),
      payload: { pubkey: '0'.repeat(64) },
    });
    expect(ignored.statusCode, ignored.body).toBe(201);
    for (let i = 0; i < 2; i++) {
      const res = await first(5, 'newest', bearer(reader.token));
      expect(res.json().data.items).toHaveLength(5);
      expect(res.headers['x-cache']).toBeUndefined();
    }
    // Any of these pages kept would add ~120 KiB (entries may also expire meanwhile).
    expect(t.ctx.realtime.pages.bytes).toBeLessThanOrEqual(bytes);
  });

  it("drops a board's pages when something is posted there", async () => {
    await first(5);
    expect((await first(5)).headers['x-cache']).toBe('hit');
    await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(token),
      payload: { board_id: board, subject: 'new', body: 'new' },
    });
    const after = await first(5);
    expect(after.headers['x-cache']).toBe('miss');
    expect(after.json().data.items[0].subject).toBe('new');
  });

  it("drops every board's pages on a change announced elsewhere, and none on a room's", async () => {
    await first(5);
    await t.ctx.realtime.announce({ kind: 'room', roomKey: `${board}:lobby` }, 1);
    expect((await first(5)).headers['x-cache']).toBe('hit');
    await t.ctx.realtime.announce({ kind: 'bans' });
    expect((await first(5)).headers['x-cache']).toBe('miss');
    expect((await first(5)).headers['x-cache']).toBe('hit');
    // A reader who asks for a fresh page gets one (and it is kept for the others).
    const fresh = await first(5, 'newest', { 'cache-control': 'no-cache' });
    expect(fresh.headers['x-cache']).toBe('miss');
    expect((await first(5)).headers['x-cache']).toBe('hit');
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

describe('SharedAnswers', () => {
  it('makes each answer once per object and key, and keeps a bounded number of keys', () => {
    const answers = new SharedAnswers<object, string>();
    let made = 0;
    const make = (v: string) => () => {
      made++;
      return v;
    };
    const page = {};
    expect(answers.get(page, 'UTC', make('a'))).toBe('a');
    expect(answers.get(page, 'UTC', make('b'))).toBe('a');
    expect(answers.get({}, 'UTC', make('c'))).toBe('c');
    expect(made).toBe(2);
    for (let i = 1; i < MAX_SHARED_KEYS; i++) answers.get(page, `zone${i}`, make('z'));
    made = 0;
    // Past the bound an answer is still made, but not kept: asking again makes it again.
    expect(answers.get(page, 'one too many', make('d'))).toBe('d');
    expect(answers.get(page, 'one too many', make('d'))).toBe('d');
    expect(answers.get(page, 'zone1', make('x'))).toBe('z');
    expect(made).toBe(2);
  });
});
