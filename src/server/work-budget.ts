// One budget for the expensive work anyone can ask for (Argon2id runs, RSA key generation): at most
// `running` jobs at once and at most `waiting` more in line. A job that finds the line full is
// refused at once with 503 SERVER_BUSY and Retry-After, before any of its work is done, so a burst
// costs the server a bounded amount of memory and CPU whatever address it comes from.
import { AppError } from './http/errors.js';

export interface WorkLimits {
  /** Jobs that may run at once (each takes a thread-pool thread and most of a core). */
  running: number;
  /** Jobs that may wait for a free slot; one more is refused. */
  waiting: number;
}

/** Seconds a refused client is told to wait: long enough for the line to move. */
export const BUSY_RETRY_AFTER_SECONDS = 2;

export const serverBusy = (message: string) =>
  new AppError(503, 'SERVER_BUSY', message, undefined, {
    'retry-after': String(BUSY_RETRY_AFTER_SECONDS),
  });

export class WorkBudget {
  private active = 0;
  private readonly line: Array<() => void> = [];

  constructor(
    readonly limits: WorkLimits,
    /** What a refused client is told. */
    private readonly busyMessage = 'the server is busy with other logins and sign-ups; retry shortly',
  ) {}

  /** Jobs running now and jobs waiting (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    return { running: this.active, waiting: this.line.length };
  }

  /** Runs `job` when a slot is free; throws SERVER_BUSY at once when the line is full. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active < this.limits.running) this.active++;
    else if (this.line.length >= this.limits.waiting) {
      throw serverBusy(this.busyMessage);
    }
    // A finishing job hands its slot straight to the next in line (active stays the same), so a
    // newcomer can never slip in between and exceed the bound.
    else await new Promise<void>((resolve) => this.line.push(resolve));
    try {
      return await job();
    } finally {
      const next = this.line.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }
}
