// The one cache type of the server: bounded in bytes (keys included), entries expire after a fixed
// time on their own, and the least recently set entries go first when a new one needs room.
// Every entry lives the same time, so the Map's insertion order is also its expiry order.

export interface ByteCacheOptions<V> {
  /** The most the entries (keys, values and a fixed overhead each) may weigh together. */
  maxBytes: number;
  /** How long an entry lives after it is set. */
  ttlMs: number;
  /** The bytes a value holds (a Buffer's length, a string's UTF-16 size, an estimate for objects). */
  sizeOf: (value: V) => number;
  /** Told of every entry that leaves (evicted, expired, deleted or cleared), e.g. to drop an index. */
  onRemove?: (key: string) => void;
}

/** What one entry costs beyond its key and value: the Map slot and the entry object. */
export const ENTRY_OVERHEAD_BYTES = 96;

interface Entry<V> {
  value: V;
  bytes: number;
  expires: number;
}

export class ByteCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private total = 0;
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly options: ByteCacheOptions<V>) {}

  /** The bytes held now; never above maxBytes. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= now) {
      this.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores the value unless it alone is over the bound (then the key is dropped instead). */
  set(key: string, value: V, now = Date.now()): void {
    this.delete(key);
    const bytes = key.length * 2 + this.options.sizeOf(value) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.options.maxBytes) return;
    this.dropExpired(now);
    for (const oldest of this.entries.keys()) {
      if (this.total + bytes <= this.options.maxBytes) break;
      this.delete(oldest);
    }
    this.entries.set(key, { value, bytes, expires: now + this.options.ttlMs });
    this.total += bytes;
    this.scheduleSweep();
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
    this.options.onRemove?.(key);
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }

  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) break;
      this.delete(key);
    }
  }

  /** Idle caches empty themselves: a timer (that never keeps the process alive) sweeps them. */
  private scheduleSweep(): void {
    if (this.sweep !== undefined) return;
    this.sweep = setTimeout(() => {
      this.sweep = undefined;
      this.dropExpired(Date.now());
      if (this.entries.size > 0) this.scheduleSweep();
    }, this.options.ttlMs);
    this.sweep.unref();
  }
}
