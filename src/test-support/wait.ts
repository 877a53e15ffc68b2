// Waiting in tests for a condition, never for a length of time.

/** Resolves once the condition holds, checking again after each turn of I/O. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
