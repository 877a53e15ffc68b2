// The boards bench's sizes, rounds, budgets and targets, and --quick, which shrinks them.
import type { Dialect } from '../../src/server/db/database.js';

// --quick: every step at a small size, to check the bench itself; its figures mean nothing.
export const QUICK = process.argv.includes('--quick');

export const DIALECT_NAME: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

// 1. The page under load, and the bare reference.
export const PAGE_LIMIT = 50;
export const LOAD_CONNECTIONS = 50;
export const LOAD_SECONDS = QUICK ? 2 : 10;
export const LOAD_WARMUP_SECONDS = 2;
export const BARE_RATIO_TARGET = 0.3;
// 2. Posting.
export const POSTERS = 3;
export const POST_CONNECTIONS = 8;
export const POST_SECONDS = QUICK ? 2 : 10;
export const SIGN_SECONDS = 3;
export const SIGN_MAX_RUNS = 100_000;
// 3. Page time by board size.
export const PAGE_BOARD_MESSAGES = 3_000;
export const SMALL_BOARD_MESSAGES = 1_000;
export const BIG_BOARD_MESSAGES = QUICK ? 20_000 : 1_000_000;
export const DEEP_PAGES = 100;
export const PAGE_WARMUP_ROUNDS = 10;
export const PAGE_ROUNDS = 400;
export const PAGE_BUDGET_MS = 60_000;
export const PAGE_RATIO_TARGET = 1.2;
// 4. Search.
export const SEARCH_WORDS_PER_CLASS = 4;
export const SEARCH_ROUNDS = 8;
export const SEARCH_CLASS_BUDGET_MS = 20_000;
export const SEARCH_P50_TARGET_MS = 50;
// Seeding and text.
export const SQLITE_BATCH = 50_000;
export const POSTGRES_BATCH = 10_000;
export const PROGRESS_EVERY = 100_000;
export const VOCABULARY_SIZE = 4_000;
export const ZIPF_EXPONENT = 1.1;
export const TEXT_SEED = 0x5eed_a80e;
// Never verified by the bench, but as long as a real one (RSA-3072: 384 bytes, 512 in base64), so
// rows weigh what posted rows do.
export const SEED_SIGNATURE = Buffer.from(
  Array.from({ length: 384 }, (_, i) => (i * 131) & 0xff),
).toString('base64');
// Elsewhere.
export const REQUEST_TIMEOUT_MS = 30_000;
export const MIN_FREE_TMP_BYTES = 4 * 1024 ** 3;
export const PASSWORD = 'correct horse battery staple';
export const SERVER_ENV = {
  LOG_LEVEL: 'warn',
  AXON_LOGIN_RATE_LIMIT: '100000',
  AXON_REGISTER_RATE_LIMIT: '100000',
};
