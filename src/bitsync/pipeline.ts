// Bounded, ordered concurrency over chunk indices: a few chunks in flight keep every core and the disk
// busy, and the bound is what keeps memory flat whatever the content's size.

/** How many chunks the readers and writers keep in flight (each costs about two chunk buffers). */
export const CHUNKS_IN_FLIGHT = 4;

/**
 * Runs `work` for each index, at most `depth` at a time, and yields the results in index order. A
 * failure surfaces when its turn comes; if the consumer stops early, the work already started is
 * awaited (its errors dropped) so nothing runs on after the caller has moved on.
 */
export async function* inOrder<T>(
  indices: Iterable<number>,
  depth: number,
  work: (index: number) => Promise<T>,
): AsyncGenerator<T> {
  const iterator = indices[Symbol.iterator]();
  const pending: Promise<T>[] = [];
  const refill = () => {
    while (pending.length < depth) {
      const next = iterator.next();
      if (next.done === true) return;
      const task = work(next.value);
      // Marks the rejection handled now; it is still thrown when this task's turn comes.
      task.catch(() => undefined);
      pending.push(task);
    }
  };
  try {
    refill();
    for (let task = pending.shift(); task !== undefined; task = pending.shift()) {
      const result = await task;
      refill();
      yield result;
    }
  } finally {
    await Promise.allSettled(pending);
  }
}

/** The integers first … last, inclusive. */
export function* indexRange(first: number, last: number): Generator<number> {
  for (let index = first; index <= last; index++) yield index;
}
