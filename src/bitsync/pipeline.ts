// Bounded, ordered concurrency over chunks: a few chunks in flight keep every core and the disk
// busy, and the bound is what keeps memory flat whatever the content's size.

/** How many chunks each stage keeps in flight (each costs about one or two chunk buffers). */
export const CHUNKS_IN_FLIGHT = 4;

/**
 * Runs `work` for each item of `source` (with its position), at most `depth` at a time, and yields
 * the results in source order. The source is read only as far as `depth` allows ahead of the
 * consumer (backpressure). A failure surfaces when its turn comes; if the consumer stops early or
 * the source fails, the work already started is awaited (its errors dropped) so nothing runs on
 * after the caller has moved on.
 */
export async function* inOrder<I, T>(
  source: Iterable<I> | AsyncIterable<I>,
  depth: number,
  work: (item: I, position: number) => Promise<T>,
): AsyncGenerator<T> {
  const iterator =
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (source[Symbol.iterator]() as Iterator<I> | AsyncIterator<I>);
  const pending: Promise<T>[] = [];
  let position = 0;
  let exhausted = false;
  const refill = async () => {
    while (!exhausted && pending.length < depth) {
      const next = await iterator.next();
      if (next.done === true) {
        exhausted = true;
        return;
      }
      const task = work(next.value, position++);
      // Marks the rejection handled now; it is still thrown when this task's turn comes.
      task.catch(() => undefined);
      pending.push(task);
    }
  };
  try {
    await refill();
    for (let task = pending.shift(); task !== undefined; task = pending.shift()) {
      const result = await task;
      await refill();
      yield result;
    }
  } finally {
    await Promise.allSettled(pending);
    if (!exhausted) await iterator.return?.();
  }
}

/** The integers first … last, inclusive. */
export function* indexRange(first: number, last: number): Generator<number> {
  for (let index = first; index <= last; index++) yield index;
}
