// The chat bench's command-line choices, sizes, bounds and targets.
// --quick: small sizes, to check the bench itself; its figures mean nothing.
export const QUICK = process.argv.includes('--quick');
export const SQLITE_ONLY = process.argv.includes('--sqlite-only');
// --no-floor: skip the bare fan-out reference runs (bench/chat/floor-server.ts).
export const NO_FLOOR = process.argv.includes('--no-floor');
// --mode=sse|long-poll and --clients=N: only those runs (e.g. to profile one).
export const argValue = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
export const ONLY_MODE = argValue('mode');
export const ONLY_CLIENTS = argValue('clients');

export type Dialect = 'sqlite' | 'postgres';
/**
 * Axon on a database, Axon as two worker processes on PostgreSQL (`axon start --workers 2`, for
 * bench:scale), or the bare floor server (bench/chat/floor-server.ts), with one process or two.
 */
export type Backend = Dialect | 'postgres-2' | 'floor' | 'floor-2';
export type Mode = 'long-poll' | 'sse';
export const BACKEND_NAME: Record<Backend, string> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
  'postgres-2': 'PostgreSQL, 2 processes',
  floor: 'floor: bare node:http',
  'floor-2': 'floor: bare node:http, 2 processes',
};
export const MODE_NAME: Record<Mode, string> = { 'long-poll': 'long poll', sse: 'SSE' };

export const CLIENT_COUNTS = QUICK ? [20, 100] : [100, 1000];
export const EVENTS = QUICK ? 10 : 50;
// Not measured: the first ones also carry the clients' connection set-up.
export const WARMUP_EVENTS = 3;
// After every client got an event, long polls re-poll: give the server time to park them all again
// before the next post (jittered, so posts do not beat in step with anything periodic).
// --settle=MS overrides it (at most 10 s).
export const SETTLE_OVERRIDE = argValue('settle');
export const settleMs = (clients: number) =>
  SETTLE_OVERRIDE === undefined
    ? Math.max(200, clients)
    : Math.min(10_000, Math.max(0, Number(SETTLE_OVERRIDE) || 0));
export const SETTLE_JITTER = 0.2;
export const READER_ACCOUNTS = 4;
export const BASELINE_POSTS = 12;
export const LONG_POLL_WAIT_S = 30;
// Bounds: every loop stops on a count or a deadline.
export const EVENT_DEADLINE_MS = 35_000;
export const RUN_DEADLINE_MS = 10 * 60_000;
export const MAX_POLLS_PER_CLIENT = 10_000;
export const MAX_SSE_CONNECTS_PER_CLIENT = 20;
export const REQUEST_TIMEOUT_MS = 45_000;
export const RSS_SAMPLE_MS = 100;
export const MAX_ERRORS_PER_RUN = 10_000;
// The spec's design.
export const SPEC_CLIENT_POLL_MS = 2000;
export const SPEC_SERVER_POLL_MS = 1000;
export const SPEC_SEED = 0x0c4a_7e57;
// Targets at 1,000 clients.
export const TARGET_P50_MS = 10;
export const TARGET_P99_MS = 50;

export const PASSWORD = 'correct horse battery staple';
export const SERVER_ENV = {
  LOG_LEVEL: 'warn',
  AXON_LOGIN_RATE_LIMIT: '100000',
  AXON_REGISTER_RATE_LIMIT: '100000',
  // 1,000 readers share READER_ACCOUNTS sessions here; real clients hold a few each.
  AXON_STREAMS_PER_SESSION: '100000',
};
