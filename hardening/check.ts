// The contract of one row of the security suite: a named check that tries cases and lists failures.
export interface CheckOptions {
  /** More iterations (`npm run hardening -- --long`); CI runs the bounded default. */
  long: boolean;
  /** The seed every random choice derives from; fixed by default so CI runs repeat. */
  seed: number;
}

export interface CheckResult {
  /** How many cases were tried. */
  cases: number;
  /** One line per failed case, saying what was tried and what happened. */
  failures: string[];
  /** Optional figures to print under the table (e.g. timing distributions). */
  notes?: string[];
}

export interface Check {
  name: string;
  run(options: CheckOptions): Promise<CheckResult>;
}
