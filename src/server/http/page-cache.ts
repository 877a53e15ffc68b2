// A short-lived cache of serialized list pages (micro-caching). Entries are dropped the moment the
// event hub announces a change on their board (posts and deletions, from this process or, through
// PostgreSQL NOTIFY, from others), and expire after a few seconds as a backstop for changes that
// are not announced across processes (bans, ignore lists, board settings).
export interface CachedPage {
  body: Buffer;
  expires: number;
}

export class PageCache {
  private readonly pages = new Map<string, CachedPage>();
  private readonly byBoard = new Map<string, Set<string>>();
  /** Bumped by every invalidation: a page read before a change must not be cached after it. */
  private generation = 0;

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 2000,
  ) {}

  get(key: string, now = Date.now()): Buffer | undefined {
    const page = this.pages.get(key);
    if (page === undefined) return undefined;
    if (page.expires <= now) {
      this.pages.delete(key);
      return undefined;
    }
    return page.body;
  }

  /** Take before reading the database; pass to set. */
  stamp(): number {
    return this.generation;
  }

  /** Caches the page unless something changed since `stamp` was taken (it may already be stale). */
  set(boardId: string, key: string, body: Buffer, stamp: number, now = Date.now()): void {
    if (stamp !== this.generation) return;
    if (this.pages.size >= this.maxEntries) this.clear();
    this.pages.set(key, { body, expires: now + this.ttlMs });
    let keys = this.byBoard.get(boardId);
    if (keys === undefined) {
      keys = new Set();
      this.byBoard.set(boardId, keys);
    }
    keys.add(key);
  }

  invalidateBoard(boardId: string): void {
    this.generation++;
    for (const key of this.byBoard.get(boardId) ?? []) this.pages.delete(key);
    this.byBoard.delete(boardId);
  }

  clear(): void {
    this.generation++;
    this.pages.clear();
    this.byBoard.clear();
  }
}
