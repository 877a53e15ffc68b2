// Answer caches: serialized answers that many readers share, made once and dropped when the
// channel they follow announces a change. The realtime module owns them because it hears every
// change (posts and deletions from this process or, through PostgreSQL NOTIFY, from others).
//
// - PageCache: a board's first page of messages (boards' list route), bounded in bytes, expiring
//   after a few seconds as a backstop for changes not announced across processes (ignore lists,
//   board settings). It holds only what all readers share, so nobody can fill it with keys.
// - SharedAnswers: what is made from one shared object (a page of events one wake-up hands every
//   waiter, an event) per key (the reader's time zone): kept as long as the object lives, at most
//   MAX_SHARED_KEYS keys each.
import { ByteCache } from '../../services/byte-cache.js';
import type { EventHub } from '../../services/event-hub.js';
import { parseChannel } from './channels.js';

export const PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024;
export const PAGE_CACHE_TTL_MS = 2000;

/** How an answer was served: from the cache, made and cached, or made for this reader only. */
export type CacheOutcome = 'hit' | 'miss' | 'uncached';

export class PageCache {
  private readonly pages: ByteCache<Buffer>;
  /** The keys cached per board, so a board's change drops them; kept in step with `pages`. */
  private readonly byBoard = new Map<string, Set<string>>();
  private readonly boardOf = new Map<string, string>();
  /** Bumped by every invalidation: a page read before a change must not be cached after it. */
  private generation = 0;

  constructor(ttlMs = PAGE_CACHE_TTL_MS, maxBytes = PAGE_CACHE_MAX_BYTES) {
    this.pages = new ByteCache<Buffer>({
      maxBytes,
      ttlMs,
      sizeOf: (body) => body.length,
      onRemove: (key) => this.unindex(key),
    });
  }

  /**
   * Drops a board's pages when its channel announces a change; anything else announced (bans,
   * retention, a lost LISTEN connection) may change what any page shows, and drops them all.
   * Rooms, federation cursors and a user's new mail change no page.
   */
  watch(hub: EventHub): () => void {
    return hub.watchAll((name) => {
      const channel = parseChannel(name);
      if (channel?.kind === 'board') this.invalidateBoard(channel.boardId);
      else if (
        channel?.kind !== 'room' &&
        channel?.kind !== 'federation' &&
        channel?.kind !== 'mail'
      ) {
        this.clear();
      }
    });
  }

  /** The bytes the cached pages hold now (never above the bound). */
  get bytes(): number {
    return this.pages.bytes;
  }

  /**
   * The answer for `key` on `boardId`: from the cache unless `fresh` (a reader's `no-cache`), else
   * made by `make` and kept unless the board changed meanwhile. Without a key (a page only this
   * reader asks for) it is made and not kept.
   */
  async answer(
    boardId: string,
    key: string | undefined,
    make: () => Promise<Buffer>,
    fresh = false,
  ): Promise<{ body: Buffer; outcome: CacheOutcome }> {
    if (key === undefined) return { body: await make(), outcome: 'uncached' };
    if (!fresh) {
      const cached = this.pages.get(key);
      if (cached !== undefined) return { body: cached, outcome: 'hit' };
    }
    const stamp = this.generation;
    const body = await make();
    this.set(boardId, key, body, stamp);
    return { body, outcome: 'miss' };
  }

  invalidateBoard(boardId: string): void {
    this.generation++;
    for (const key of [...(this.byBoard.get(boardId) ?? [])]) this.pages.delete(key);
  }

  clear(): void {
    this.generation++;
    this.pages.clear();
  }

  /** Caches the page unless something changed since `stamp` was taken (it may already be stale). */
  private set(boardId: string, key: string, body: Buffer, stamp: number): void {
    if (stamp !== this.generation) return;
    this.pages.set(key, body);
    if (this.pages.get(key) === undefined) return;
    this.boardOf.set(key, boardId);
    let keys = this.byBoard.get(boardId);
    if (keys === undefined) {
      keys = new Set();
      this.byBoard.set(boardId, keys);
    }
    keys.add(key);
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

/** Keys kept per shared object: time zones in use at once (a few); past it, answers are not kept. */
export const MAX_SHARED_KEYS = 64;

/**
 * Values made once per shared object and key, for every reader the object goes to. The object's
 * lifetime bounds them (a WeakMap): nothing is kept once the page or event is no longer in use.
 * Treat the values as frozen.
 */
export class SharedAnswers<O extends object, V> {
  private readonly byObject = new WeakMap<O, Map<string, V>>();

  get(object: O, key: string, make: () => V): V {
    let byKey = this.byObject.get(object);
    if (byKey === undefined) {
      byKey = new Map();
      this.byObject.set(object, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = make();
      if (byKey.size < MAX_SHARED_KEYS) byKey.set(key, value);
    }
    return value;
  }
}
