// Gauges read from the database share one read per scrape of /metrics: the first gauge's collect
// starts it, the others wait for the same one, and the /metrics handler starts a new scrape (so a
// read is never reused by the next scrape, however quickly it follows).
export interface SharedRead {
  /** For each gauge's `collect`: the read of the current scrape. */
  collect: () => Promise<void>;
  /** Called by /metrics before it gathers: the next collect reads again. */
  newScrape: () => void;
}

export function sharedRead(read: () => Promise<void>): SharedRead {
  let current: Promise<void> | undefined;
  return {
    collect: () => (current ??= read()),
    newScrape: () => {
      current = undefined;
    },
  };
}
