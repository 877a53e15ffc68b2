// A short-lived cache of serialized list pages (micro-caching). Entries are dropped the moment the
// event hub announces a change on their board (posts and deletions, from this process or, through
// PostgreSQL NOTIFY, from others), and expire after a few seconds as a backstop for changes that
// are not announced across processes (bans, ignore lists, board settings). It holds only what all
// readers share (a board's first page per order, kind and limit; boards/routes.ts keys it), and is
// bounded in bytes all the same.
import { ByteCache } from '../services/byte-cache.js';

export const PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024;

export class PageCache {
  private readonly pages: ByteCache<Buffer>;
  /** The keys cached per board, so a board's change drops them; kept in step with `pages`. */
  private readonly byBoard = new Map<string, Set<string>>();
  private readonly boardOf = new Map<string, string>();
  /** Bumped by every invalidation: a page read before a change must not be cached after it. */
  private generation = 0;

  constructor(ttlMs = 2000, maxBytes = PAGE_CACHE_MAX_BYTES) {
    this.pages = new ByteCache<Buffer>({
      maxBytes,
      ttlMs,
      sizeOf: (body) => body.length,
      onRemove: (key) => this.unindex(key),
    });
  }

  /** The bytes the cached pages hold now (never above the bound). */
  get bytes(): number {
    return this.pages.bytes;
  }

  get(key: string, now = Date.now()): Buffer | undefined {
    return this.pages.get(key, now);
  }

  /** Take before reading the database; pass to set. */
  stamp(): number {
    return this.generation;
  }

  /** Caches the page unless something changed since `stamp` was taken (it may already be stale). */
  set(boardId: string, key: string, body: Buffer, stamp: number, now = Date.now()): void {
    if (stamp !== this.generation) return;
    this.pages.set(key, body, now);
    if (this.pages.get(key, now) === undefined) return;
    this.boardOf.set(key, boardId);
    let keys = this.byBoard.get(boardId);
    if (keys === undefined) {
      keys = new Set();
      this.byBoard.set(boardId, keys);
    }
    keys.add(key);
  }

  invalidateBoard(boardId: string): void {
    this.generation++;
    for (const key of [...(this.byBoard.get(boardId) ?? [])]) this.pages.delete(key);
  }

  clear(): void {
    this.generation++;
    this.pages.clear();
  }

  private unindex(key: string): void {
    const boardId = this.boardOf.get(key);
    if (boardId === undefined) return;
    this.boardOf.delete(key);
    const keys = this.byBoard.get(boardId);
    keys?.delete(key);
    if (keys?.size === 0) this.byBoard.delete(boardId);
  }
}
