// The boards benchmark. Owns: synthetic message text (a made-up Zipf vocabulary), the bulk seeding
// of boards straight into the database while no server holds it (SQLite via better-sqlite3,
// PostgreSQL via pg), and four measurements printed as one markdown table — a 50-message page
// under load beside a bare Fastify route, posting throughput beside raw RSA-PSS signing, page time
// in a 1k vs a 1M-message board, and search latency over 1M messages. SQLite always; items 3 and 4
// on PostgreSQL too with --postgres (or AXON_BENCH_POSTGRES=1), on PostgreSQL alone with
// --postgres-only.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { generateKeyPair } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
// The signing reference uses the server's own key size and signed object, so it cannot drift.
import { RSA_BITS } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signing.js';
import { messageObject, type Message } from '../src/server/modules/boards/messages.js';
import {
  cleanUpOnExit,
  fmt,
  httpRequest,
  loadAverage,
  markdownTable,
  percentile,
  ratio,
  say,
  seededRandom,
  startAxon,
  startBareFastify,
  type RunningServer,
  throwawayPostgres,
} from './support.js';

// --quick: every step at a small size, to check the bench itself; its figures mean nothing.
const QUICK = process.argv.includes('--quick');

type Dialect = 'sqlite' | 'postgres';
const DIALECT_NAME: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

// 1. The page under load, and the bare reference.
const PAGE_LIMIT = 50;
const LOAD_CONNECTIONS = 50;
const LOAD_SECONDS = QUICK ? 2 : 10;
const LOAD_WARMUP_SECONDS = 2;
const BARE_RATIO_TARGET = 0.3;
// 2. Posting.
const POSTERS = 3;
const POST_CONNECTIONS = 8;
const POST_SECONDS = QUICK ? 2 : 10;
const SIGN_SECONDS = 3;
const SIGN_MAX_RUNS = 100_000;
// 3. Page time by board size.
const PAGE_BOARD_MESSAGES = 3_000;
const SMALL_BOARD_MESSAGES = 1_000;
const BIG_BOARD_MESSAGES = QUICK ? 20_000 : 1_000_000;
const DEEP_PAGES = 100;
const PAGE_WARMUP_ROUNDS = 10;
const PAGE_ROUNDS = 400;
const PAGE_BUDGET_MS = 60_000;
const PAGE_RATIO_TARGET = 1.2;
// 4. Search.
const SEARCH_WORDS_PER_CLASS = 4;
const SEARCH_ROUNDS = 8;
const SEARCH_CLASS_BUDGET_MS = 20_000;
const SEARCH_P50_TARGET_MS = 50;
// Seeding and text.
const SQLITE_BATCH = 50_000;
const POSTGRES_BATCH = 10_000;
const PROGRESS_EVERY = 100_000;
const VOCABULARY_SIZE = 4_000;
const ZIPF_EXPONENT = 1.1;
const TEXT_SEED = 0x5eed_a80e;
// Never verified by the bench, but as long as a real one (RSA-3072: 384 bytes, 512 in base64), so
// rows weigh what posted rows do.
const SEED_SIGNATURE = Buffer.from(
  Array.from({ length: 384 }, (_, i) => (i * 131) & 0xff),
).toString('base64');
// Elsewhere.
const REQUEST_TIMEOUT_MS = 30_000;
const MIN_FREE_TMP_BYTES = 4 * 1024 ** 3;
const PASSWORD = 'correct horse battery staple';
const SERVER_ENV = {
  LOG_LEVEL: 'warn',
  AXON_LOGIN_RATE_LIMIT: '100000',
  AXON_REGISTER_RATE_LIMIT: '100000',
};

const generateRsa = promisify(generateKeyPair);

// ---------------------------------------------------------------------------------------------
// Cleanup: every temp dir and database this run makes is undone on any exit, SIGINT included.

const exitCleanups = cleanUpOnExit();

// ---------------------------------------------------------------------------------------------
// Text: made-up words drawn with a Zipf distribution, so word frequencies look like a language's.

/** Consonant-vowel syllables only, so no word can collide with the English of the posted text. */
function makeVocabulary(size: number, random: () => number): string[] {
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 3);
    let word = '';
    for (let s = 0; s < syllables; s++) {
      word += consonants[Math.floor(random() * consonants.length)]!;
      word += vowels[Math.floor(random() * vowels.length)]!;
    }
    words.add(word);
  }
  return [...words];
}

class TextGenerator {
  readonly words: string[];
  /** Documents (messages) each word appears in, subject or body, over everything generated. */
  readonly docFreq: Uint32Array;
  docs = 0;
  private readonly random: () => number;
  private readonly cdf: Float64Array;
  private readonly lastDoc: Int32Array;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.words = makeVocabulary(VOCABULARY_SIZE, this.random);
    this.cdf = new Float64Array(VOCABULARY_SIZE);
    let total = 0;
    for (let rank = 0; rank < VOCABULARY_SIZE; rank++) {
      total += 1 / (rank + 1) ** ZIPF_EXPONENT;
      this.cdf[rank] = total;
    }
    for (let rank = 0; rank < VOCABULARY_SIZE; rank++) this.cdf[rank]! /= total;
    this.docFreq = new Uint32Array(VOCABULARY_SIZE);
    this.lastDoc = new Int32Array(VOCABULARY_SIZE).fill(-1);
  }

  private word(): string {
    const x = this.random();
    let lo = 0;
    let hi = VOCABULARY_SIZE - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (this.lastDoc[lo] !== this.docs) {
      this.lastDoc[lo] = this.docs;
      this.docFreq[lo]!++;
    }
    return this.words[lo]!;
  }

  private between(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** A message: a 3–7 word subject, a body of 2–4 sentences of 5–12 words. */
  message(): { subject: string; body: string } {
    const subjectWords = Array.from({ length: this.between(3, 7) }, () => this.word());
    const sentences = Array.from({ length: this.between(2, 4) }, () => {
      const words = Array.from({ length: this.between(5, 12) }, () => this.word());
      return `${words.join(' ')}.`;
    });
    this.docs++;
    return { subject: subjectWords.join(' '), body: sentences.join(' ') };
  }
}

// ---------------------------------------------------------------------------------------------
// Seeding.

interface SeedBoard {
  id: string;
  count: number;
}

interface Author {
  id: string;
  fingerprint: string;
  pem: string;
  nickname: string;
}

interface SeedRow {
  id: string;
  boardId: string;
  /** 1-based position of the row among its board's seeded rows. */
  ordinal: number;
  author: Author;
  subject: string;
  body: string;
  createdAt: number;
}

/**
 * The boards' messages interleaved in proportion (as boards grow side by side), authors in turn,
 * created_at increasing by 1 ms up to a minute ago.
 */
function* seedRows(boards: readonly SeedBoard[], authors: readonly Author[], text: TextGenerator) {
  const total = boards.reduce((sum, b) => sum + b.count, 0);
  const emitted = boards.map(() => 0);
  const start = Date.now() - 60_000 - total;
  for (let i = 0; i < total; i++) {
    let pick = 0;
    let lag = -Infinity;
    for (const [b, board] of boards.entries()) {
      const behind = (board.count * (i + 1)) / total - emitted[b]!;
      if (behind > lag) {
        lag = behind;
        pick = b;
      }
    }
    emitted[pick]!++;
    const row: SeedRow = {
      id: uuidv7(),
      boardId: boards[pick]!.id,
      ordinal: emitted[pick]!,
      author: authors[i % authors.length]!,
      ...text.message(),
      createdAt: start + i,
    };
    yield row;
  }
}

class Progress {
  private readonly started = performance.now();
  private next = PROGRESS_EVERY;
  constructor(private readonly total: number) {}
  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
  tick(done: number): void {
    if (done < this.next && done < this.total) return;
    this.next = done + PROGRESS_EVERY;
    const s = this.seconds();
    say(`  ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} rows, ${fmt(s)} s`);
  }
}

interface BenchDatabase {
  dialect: Dialect;
  dataDir: string;
  /** Extra server environment: the database it uses. */
  env: Record<string, string>;
  promoteSysop(username: string): Promise<void>;
  authors(usernames: readonly string[]): Promise<Author[]>;
  seed(
    boards: readonly SeedBoard[],
    authors: readonly Author[],
    text: TextGenerator,
  ): Promise<void>;
  drop(): Promise<void>;
}

function sqliteDatabase(): BenchDatabase {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'axon-bench-boards-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  exitCleanups.add(removeDir);
  const file = path.join(dataDir, 'axon.db');
  const withDb = <T>(use: (db: Database.Database) => T): T => {
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    try {
      return use(db);
    } finally {
      db.close();
    }
  };
  return {
    dialect: 'sqlite',
    dataDir,
    env: {},
    promoteSysop: async (username) => {
      withDb((db) =>
        db.prepare('UPDATE users SET is_sysop = 1 WHERE username_lower = ?').run(username),
      );
    },
    authors: async (usernames) =>
      withDb((db) =>
        db
          .prepare(
            `SELECT id, fingerprint, pubkey AS pem, nickname FROM users
             WHERE username_lower IN (${usernames.map(() => '?').join(', ')}) ORDER BY username_lower`,
          )
          .all(...usernames),
      ) as Author[],
    seed: async (boards, authors, text) => withDb((db) => seedSqlite(db, boards, authors, text)),
    drop: async () => {
      removeDir();
      exitCleanups.delete(removeDir);
    },
  };
}

/**
 * The FTS insert trigger is dropped for the load and the index rebuilt in one pass afterwards
 * (about 3× faster than row by row); the trigger comes back from its own stored SQL text.
 */
function seedSqlite(
  db: Database.Database,
  boards: readonly SeedBoard[],
  authors: readonly Author[],
  text: TextGenerator,
): void {
  // Nothing else uses the file meanwhile, and it is thrown away after: durability is not needed.
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const now = Date.now();
  const addKey = db.prepare(
    'INSERT OR IGNORE INTO pubkeys (fingerprint, pem, first_seen) VALUES (?, ?, ?)',
  );
  for (const a of authors) addKey.run(a.fingerprint, a.pem, now);
  const triggerSql = (
    db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
      .get('messages_fts_insert') as { sql: string } | undefined
  )?.sql;
  if (triggerSql === undefined) throw new Error('no messages_fts_insert trigger to suspend');
  // A schema with per-board event numbers (messages.board_seq, boards.event_seq) gets them too,
  // continuing each board's count as a post would.
  const eventNumbers =
    db.prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'board_seq'").get() !==
    undefined;
  const eventBase = new Map<string, number>();
  if (eventNumbers) {
    const current = db.prepare('SELECT event_seq FROM boards WHERE id = ?');
    for (const b of boards) {
      eventBase.set(b.id, Number((current.get(b.id) as { event_seq: number }).event_seq));
    }
  }
  const insert = db.prepare(
    `INSERT INTO messages (id, board_id, board_ref, parent_id, thread_id, author_id,
       author_fingerprint, author_nickname, subject, body, attachments, signature, is_event,
       created_at${eventNumbers ? ', board_seq' : ''})
     VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, '[]', ?, 0, ?${eventNumbers ? ', ?' : ''})`,
  );
  const total = boards.reduce((sum, b) => sum + b.count, 0);
  const progress = new Progress(total);
  const rows = seedRows(boards, authors, text);
  db.exec('DROP TRIGGER messages_fts_insert');
  try {
    const batch = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) {
        const next = rows.next();
        if (next.done === true) return;
        const r = next.value;
        const values = [
          r.id,
          r.boardId,
          r.boardId,
          r.id,
          r.author.id,
          r.author.fingerprint,
          r.author.nickname,
          r.subject,
          r.body,
          SEED_SIGNATURE,
          r.createdAt,
        ];
        if (eventNumbers) values.push(eventBase.get(r.boardId)! + r.ordinal);
        insert.run(...values);
      }
    });
    for (let done = 0; done < total;) {
      const n = Math.min(SQLITE_BATCH, total - done);
      batch(n);
      done += n;
      progress.tick(done);
    }
  } finally {
    db.exec(triggerSql);
  }
  if (eventNumbers) {
    const advance = db.prepare('UPDATE boards SET event_seq = ? WHERE id = ?');
    for (const b of boards) advance.run(eventBase.get(b.id)! + b.count, b.id);
  }
  const restored = (
    db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
      .get('messages_fts_insert') as { sql: string } | undefined
  )?.sql;
  if (restored !== triggerSql) throw new Error('the FTS insert trigger did not come back intact');
  const rebuildStart = progress.seconds();
  db.exec("INSERT INTO messages_fts(messages_fts) VALUES('rebuild')");
  db.pragma('wal_checkpoint(TRUNCATE)');
  say(
    `  FTS index rebuilt in ${fmt(progress.seconds() - rebuildStart)} s (trigger restored verbatim); ` +
      `seeding took ${fmt(progress.seconds())} s`,
  );
}

async function postgresDatabase(): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'axon-bench-boards-pg-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  exitCleanups.add(removeDir);
  const database = await throwawayPostgres('axon_bench');
  const dbUrl = database.url;
  const withClient = async <T>(use: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  };
  return {
    dialect: 'postgres',
    dataDir,
    env: { DATABASE_URL: dbUrl },
    promoteSysop: (username) =>
      withClient(async (c) => {
        await c.query('UPDATE users SET is_sysop = true WHERE username_lower = $1', [username]);
      }),
    authors: (usernames) =>
      withClient(async (c) => {
        const result = await c.query<Author>(
          `SELECT id, fingerprint, pubkey AS pem, nickname FROM users
           WHERE username_lower = ANY($1) ORDER BY username_lower`,
          [usernames],
        );
        return result.rows;
      }),
    seed: (boards, authors, text) => withClient((c) => seedPostgres(c, boards, authors, text)),
    drop: async () => {
      await database.drop();
      removeDir();
      exitCleanups.delete(removeDir);
    },
  };
}

/**
 * Batches of POSTGRES_BATCH rows as one INSERT … SELECT FROM unnest(arrays). The GIN index is
 * dropped for the load and created again after with the migration's exact statement; then ANALYZE.
 */
async function seedPostgres(
  client: pg.Client,
  boards: readonly SeedBoard[],
  authors: readonly Author[],
  text: TextGenerator,
): Promise<void> {
  await client.query('SET synchronous_commit = off');
  await client.query("SET maintenance_work_mem = '512MB'");
  const now = Date.now();
  for (const a of authors) {
    await client.query(
      'INSERT INTO pubkeys (fingerprint, pem, first_seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [a.fingerprint, a.pem, now],
    );
  }
  const eventNumbers =
    (
      await client.query(
        `SELECT 1 FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = 'messages' AND column_name = 'board_seq'`,
      )
    ).rowCount !== 0;
  const eventBase = new Map<string, number>();
  if (eventNumbers) {
    const current = await client.query<{ id: string; event_seq: string }>(
      'SELECT id, event_seq FROM boards WHERE id = ANY($1)',
      [boards.map((b) => b.id)],
    );
    for (const row of current.rows) eventBase.set(row.id, Number(row.event_seq));
  }
  const total = boards.reduce((sum, b) => sum + b.count, 0);
  const progress = new Progress(total);
  const rows = seedRows(boards, authors, text);
  await client.query('DROP INDEX messages_search');
  let indexDropped = true;
  try {
    for (let done = 0; done < total;) {
      const columns: Array<Array<string | number>> = Array.from({ length: 9 }, () => []);
      for (let i = 0; i < POSTGRES_BATCH; i++) {
        const next = rows.next();
        if (next.done === true) break;
        const r = next.value;
        const values = [
          r.id,
          r.boardId,
          r.author.id,
          r.author.fingerprint,
          r.author.nickname,
          r.subject,
          r.body,
          r.createdAt,
          eventNumbers ? eventBase.get(r.boardId)! + r.ordinal : 0,
        ];
        for (const [c, v] of values.entries()) columns[c]!.push(v);
      }
      const n = columns[0]!.length;
      if (n === 0) break;
      await client.query(
        `INSERT INTO messages (id, board_id, board_ref, thread_id, author_id, author_fingerprint,
           author_nickname, subject, body, signature, created_at${eventNumbers ? ', board_seq' : ''})
         SELECT id, board_id, board_id, id, author_id, fp, nick, subject, body, $10, created_at
                ${eventNumbers ? ', board_seq' : ''}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::bigint[], $9::bigint[])
           AS t(id, board_id, author_id, fp, nick, subject, body, created_at, board_seq)`,
        [...columns, SEED_SIGNATURE],
      );
      done += n;
      progress.tick(done);
    }
    if (eventNumbers) {
      for (const b of boards) {
        await client.query('UPDATE boards SET event_seq = $1 WHERE id = $2', [
          eventBase.get(b.id)! + b.count,
          b.id,
        ]);
      }
    }
    const indexStart = progress.seconds();
    await client.query('CREATE INDEX messages_search ON messages USING gin (search)');
    indexDropped = false;
    say(`  GIN index created again in ${fmt(progress.seconds() - indexStart)} s`);
  } finally {
    if (indexDropped) {
      await client.query(
        'CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin (search)',
      );
    }
  }
  // VACUUM too, as autovacuum would have by the time a board holds a million messages: hint bits
  // and the visibility map set, so the first reads do not pay for writing them.
  const vacuumStart = progress.seconds();
  await client.query('VACUUM (ANALYZE) messages');
  await client.query('ANALYZE');
  say(
    `  VACUUM (ANALYZE) in ${fmt(progress.seconds() - vacuumStart)} s; ` +
      `seeding took ${fmt(progress.seconds())} s`,
  );
}

// ---------------------------------------------------------------------------------------------
// API access.

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

/** Asks the server to skip its page cache: the figure is then the database's, not the cache's. */
const UNCACHED = { 'cache-control': 'no-cache' } as const;

interface ApiCall {
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  json?: unknown;
  token?: string;
  agent?: http.Agent;
  expect?: number;
}

/** One API call; returns the envelope's data, or throws with the answer when it is not `expect`. */
async function api(url: string, call: ApiCall = {}): Promise<{ data: unknown; ms: number }> {
  const answer = await httpRequest({
    url,
    method: call.method ?? 'GET',
    json: call.json,
    agent: call.agent,
    headers: {
      ...(call.token === undefined ? {} : { authorization: `Bearer ${call.token}` }),
      ...call.headers,
    },
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const expect = call.expect ?? 200;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    parsed = undefined;
  }
  if (answer.status !== expect || field(parsed, 'success') !== true) {
    throw new Error(
      `${call.method ?? 'GET'} ${url} answered ${answer.status}: ${answer.body.slice(0, 300)}`,
    );
  }
  return { data: field(parsed, 'data'), ms: answer.ms };
}

async function register(base: string, username: string): Promise<string> {
  const { data } = await api(`${base}/api/auth/register/`, {
    method: 'POST',
    json: { username, password: PASSWORD },
    expect: 201,
  });
  return asString(field(data, 'token'), 'register token');
}

async function createBoard(base: string, token: string, name: string): Promise<string> {
  const { data } = await api(`${base}/api/boards/`, {
    method: 'POST',
    token,
    json: { name, message_retention_days: null },
    expect: 201,
  });
  return asString(field(data, 'id'), 'board id');
}

const pageUrl = (base: string, board: string, cursor?: string) =>
  `${base}/api/boards/${board}/messages/?limit=${PAGE_LIMIT}` +
  (cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`);

// ---------------------------------------------------------------------------------------------
// 1 and 2: load with autocannon.

interface LoadFigures {
  perSecond: number;
  p50: number;
  p99: number;
  responses: number;
  non2xx: number;
  errors: number;
  bytesPerResponse: number;
}

function loadFigures(result: autocannon.Result): LoadFigures {
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    perSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    responses,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bytesPerResponse: responses === 0 ? 0 : result.throughput.total / responses,
  };
}

async function getLoad(
  url: string,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadFigures> {
  const result = await autocannon({
    url,
    headers,
    connections: LOAD_CONNECTIONS,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
  });
  return loadFigures(result);
}

async function pageUnderLoad(base: string, board: string) {
  const bare = await startBareFastify();
  try {
    const axonUrl = pageUrl(base, board);
    const first = await api(axonUrl);
    const items = field(first.data, 'items');
    if (!Array.isArray(items) || items.length !== PAGE_LIMIT) {
      throw new Error(`the page board's first page has no ${PAGE_LIMIT} items`);
    }
    say(`warming both up (${LOAD_WARMUP_SECONDS} s each)…`);
    await getLoad(`${bare.url}/`, LOAD_WARMUP_SECONDS);
    await getLoad(axonUrl, LOAD_WARMUP_SECONDS);
    say(`bare Fastify: ${LOAD_CONNECTIONS} connections for ${LOAD_SECONDS} s…`);
    const reference = await getLoad(`${bare.url}/`, LOAD_SECONDS);
    say(`Axon page of ${PAGE_LIMIT}: ${LOAD_CONNECTIONS} connections for ${LOAD_SECONDS} s…`);
    const axon = await getLoad(axonUrl, LOAD_SECONDS);
    say(`Axon page of ${PAGE_LIMIT}, cache bypassed (Cache-Control: no-cache)…`);
    const uncached = await getLoad(axonUrl, LOAD_SECONDS, UNCACHED);
    return { axon, uncached, reference };
  } finally {
    await bare.stop();
  }
}

// Posted text is English, so it cannot match a made-up search word; about the seeded size.
const POST_BODY =
  'Posted by the throughput run of the boards benchmark, with enough words in it to weigh about ' +
  'what a short reply on a bulletin board would: two or three sentences of plain text.';

async function postLoad(base: string, board: string, tokens: readonly string[]) {
  let n = 0;
  const result = await autocannon({
    url: `${base}/api/messages/`,
    connections: POST_CONNECTIONS,
    duration: POST_SECONDS,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const i = n++;
          return {
            ...request,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${tokens[i % tokens.length]!}`,
            },
            body: JSON.stringify({
              board_id: board,
              subject: `throughput post number ${i}`,
              body: `${POST_BODY} (${i})`,
            }),
          };
        },
      },
    ],
  });
  return loadFigures(result);
}

/** RSA-PSS signatures/s of a message object in this process, one at a time as the server signs. */
async function signingReference() {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: RSA_BITS });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + SIGN_SECONDS * 1000;
  while (performance.now() < deadline && latencies.length < SIGN_MAX_RUNS) {
    const t0 = performance.now();
    const i = latencies.length;
    const message: Message = {
      seq: 0,
      id: uuidv7(),
      boardId: 'b',
      boardRef: 'b',
      parentId: null,
      threadId: 't',
      authorId: 'u',
      authorFingerprint: 'f',
      authorNickname: 'bench',
      subject: `throughput post number ${i}`,
      body: `${POST_BODY} (${i})`,
      attachments: [],
      signature: '',
      createdAt: Date.now(),
    };
    const { signature: _none, ...object } = messageObject(message, pem);
    signObject(object, der);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: latencies.length / seconds, p99: percentile(latencies, 99) };
}

// ---------------------------------------------------------------------------------------------
// 3: page time, small board vs big board.

interface Walked {
  cursor: string | undefined;
  /** 1-based number of the page the cursor fetches. */
  page: number;
}

/** Follows next_cursor up to `pages` times; the deepest page reached and its cursor. */
async function walk(base: string, board: string, pages: number, agent: http.Agent) {
  let walked: Walked = { cursor: undefined, page: 1 };
  for (let i = 0; i < pages; i++) {
    const { data } = await api(pageUrl(base, board, walked.cursor), { agent });
    const next = field(data, 'next_cursor');
    if (typeof next !== 'string') break;
    walked = { cursor: next, page: walked.page + 1 };
  }
  return walked;
}

interface PageTimes {
  first: number[];
  deep: number[];
  deepPage: number;
}

async function pageTimes(base: string, small: string, big: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const deep = {
      small: await walk(base, small, DEEP_PAGES, agent),
      big: await walk(base, big, DEEP_PAGES, agent),
    };
    const times: Record<'small' | 'big', PageTimes> = {
      small: { first: [], deep: [], deepPage: deep.small.page },
      big: { first: [], deep: [], deepPage: deep.big.page },
    };
    const deadline = performance.now() + PAGE_BUDGET_MS;
    let rounds = 0;
    for (let r = 0; r < PAGE_WARMUP_ROUNDS + PAGE_ROUNDS && performance.now() < deadline; r++) {
      // Alternating which board goes first spreads any drift in machine speed over both.
      const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const which of order) {
        const board = which === 'small' ? small : big;
        // Uncached, so the figures compare the database work on a small and a large board.
        const first = await api(pageUrl(base, board), { agent, headers: UNCACHED });
        const deepAnswer = await api(pageUrl(base, board, deep[which].cursor), {
          agent,
          headers: UNCACHED,
        });
        if (r >= PAGE_WARMUP_ROUNDS) {
          times[which].first.push(first.ms);
          times[which].deep.push(deepAnswer.ms);
        }
      }
      if (r >= PAGE_WARMUP_ROUNDS) rounds++;
    }
    return { ...times, rounds };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 4: search.

interface SearchQuery {
  q: string;
  /** Documents with every word, when known (single words: counted while generating). */
  docs: number | undefined;
}

type SearchClass = 'rare' | 'medium' | 'common' | 'two words';

function searchQueries(text: TextGenerator): Record<SearchClass, SearchQuery[]> {
  const docs = text.docs;
  const byDf = text.words.map((word, rank) => ({ word, df: text.docFreq[rank]! }));
  byDf.sort((a, b) => a.df - b.df);
  const nearest = (fraction: number, skip: ReadonlySet<string>) =>
    byDf
      .filter((w) => !skip.has(w.word))
      .sort((a, b) => Math.abs(a.df - fraction * docs) - Math.abs(b.df - fraction * docs))
      .slice(0, SEARCH_WORDS_PER_CLASS);
  const rare = byDf.slice(0, SEARCH_WORDS_PER_CLASS);
  const taken = new Set(rare.map((w) => w.word));
  const medium = nearest(0.01, taken);
  for (const w of medium) taken.add(w.word);
  const common = nearest(0.15, taken);
  const single = (ws: typeof rare) => ws.map((w) => ({ q: w.word, docs: w.df }));
  return {
    rare: single(rare),
    medium: single(medium),
    common: single(common),
    'two words': [
      { q: `${rare[0]!.word} ${common[0]!.word}`, docs: undefined },
      { q: `${medium[0]!.word} ${medium[1]!.word}`, docs: undefined },
      { q: `${medium[2]!.word} ${common[1]!.word}`, docs: undefined },
      { q: `${common[2]!.word} ${common[3]!.word}`, docs: undefined },
    ],
  };
}

async function searchTimes(base: string, queries: Record<SearchClass, SearchQuery[]>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const classes = Object.keys(queries) as SearchClass[];
  const times = Object.fromEntries(classes.map((c) => [c, [] as number[]])) as Record<
    SearchClass,
    number[]
  >;
  const spent = Object.fromEntries(classes.map((c) => [c, 0])) as Record<SearchClass, number>;
  const hits = new Map<string, number>();
  try {
    // Round 0 warms up each query (its pages in the cache, the statement prepared); not counted.
    for (let round = 0; round <= SEARCH_ROUNDS; round++) {
      for (const c of classes) {
        if (spent[c] > SEARCH_CLASS_BUDGET_MS) continue;
        for (const query of queries[c]) {
          const { data, ms } = await api(`${base}/api/search/?q=${encodeURIComponent(query.q)}`, {
            agent,
          });
          spent[c] += ms;
          if (round === 0) {
            const items = field(data, 'items');
            hits.set(query.q, Array.isArray(items) ? items.length : -1);
          } else times[c].push(ms);
        }
      }
    }
  } finally {
    agent.destroy();
  }
  return { times, hits };
}

// ---------------------------------------------------------------------------------------------
// One dialect's run.

type Row = [string, string, string, string, string];

const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

interface RunOptions {
  /** Items 1 and 2 (load): SQLite only. */
  load: boolean;
}

async function runDialect(
  dialect: Dialect,
  options: RunOptions,
): Promise<{
  rows: Row[];
  notes: string[];
}> {
  const name = DIALECT_NAME[dialect];
  const rows: Row[] = [];
  const notes: string[] = [];
  say(`${name}: preparing the database…`);
  const database = dialect === 'sqlite' ? sqliteDatabase() : await postgresDatabase();
  const env = { ...SERVER_ENV, ...database.env };
  const start = () => startAxon(env, 60_000, { dataDir: database.dataDir });
  let server: RunningServer | undefined;
  try {
    server = await start();
    const base = server.url;
    say(`${name}: server up at ${base}; registering a sysop and ${POSTERS} posters…`);
    const posterNames = Array.from({ length: POSTERS }, (_, i) => `bench_poster_${i}`);
    const [sysopToken, ...posterTokens] = await Promise.all(
      ['bench_sysop', ...posterNames].map((u) => register(base, u)),
    );
    await database.promoteSysop('bench_sysop');
    const boardIds = {
      page: await createBoard(base, sysopToken!, 'bench page board'),
      small: await createBoard(base, sysopToken!, 'bench 1k board'),
      big: await createBoard(base, sysopToken!, 'bench 1M board'),
      post: await createBoard(base, sysopToken!, 'bench post board'),
    };

    if (options.load) {
      say(`${name}: POST /api/messages/, ${POST_CONNECTIONS} connections for ${POST_SECONDS} s…`);
      const posting = await postLoad(base, boardIds.post, posterTokens);
      say(`RSA-PSS ${RSA_BITS} signing reference: ${SIGN_SECONDS} s in this process…`);
      const signing = await signingReference();
      const valid = posting.non2xx === 0 && posting.errors === 0;
      rows.push(
        [
          `POST message/s, ${POST_CONNECTIONS} conns, ${POSTERS} users (${name})`,
          fmt(posting.perSecond),
          `${fmt(signing.perSecond)} RSA-PSS signs/s`,
          ratio(posting.perSecond, signing.perSecond),
          '— (report)',
        ],
        [
          `POST p99 ms (${name})`,
          fmt(posting.p99, 0),
          `${fmt(signing.p99, 2)} sign p99`,
          '—',
          '— (report)',
        ],
        [
          `POST non-2xx / errors (${name})`,
          `${posting.non2xx} / ${posting.errors} of ${posting.responses}`,
          '0 / 0',
          valid ? 'OK' : 'INVALID',
          '0',
        ],
      );
    }

    const authors = await database.authors(posterNames);
    if (authors.length !== POSTERS) throw new Error('the posters are not in the users table');
    await server.stop();
    server = undefined;

    const seedBoards: SeedBoard[] = [
      ...(options.load ? [{ id: boardIds.page, count: PAGE_BOARD_MESSAGES }] : []),
      { id: boardIds.small, count: SMALL_BOARD_MESSAGES },
      { id: boardIds.big, count: BIG_BOARD_MESSAGES },
    ];
    const total = seedBoards.reduce((sum, b) => sum + b.count, 0);
    say(
      `${name}: seeding ${total.toLocaleString('en')} messages with the server stopped ` +
        `(${seedBoards.map((b) => b.count.toLocaleString('en')).join(' + ')}, interleaved)…`,
    );
    const textGen = new TextGenerator(TEXT_SEED);
    await database.seed(seedBoards, authors, textGen);

    server = await start();
    const base2 = server.url;
    say(`${name}: server up again at ${base2}`);

    if (options.load) {
      const { axon, uncached, reference } = await pageUnderLoad(base2, boardIds.page);
      const r = axon.perSecond / reference.perSecond;
      const valid = [axon, uncached, reference].every((f) => f.non2xx === 0 && f.errors === 0);
      rows.push(
        [
          `GET page of ${PAGE_LIMIT} req/s, ${LOAD_CONNECTIONS} conns (${name})`,
          fmt(axon.perSecond),
          `${fmt(reference.perSecond)} bare Fastify`,
          ratio(axon.perSecond, reference.perSecond),
          `≥ ${BARE_RATIO_TARGET.toFixed(2)} ${verdict(r >= BARE_RATIO_TARGET)}`,
        ],
        [
          `GET page of ${PAGE_LIMIT} req/s, cache bypassed (${name})`,
          fmt(uncached.perSecond),
          `${fmt(reference.perSecond)} bare Fastify`,
          ratio(uncached.perSecond, reference.perSecond),
          '— (report)',
        ],
        [
          `GET page p99 ms (${name})`,
          fmt(axon.p99, 0),
          `${fmt(reference.p99, 0)} bare`,
          ratio(axon.p99, reference.p99),
          '—',
        ],
        [
          `GET page non-2xx / errors (${name})`,
          `${axon.non2xx} / ${axon.errors} of ${axon.responses}`,
          `${reference.non2xx} / ${reference.errors} of ${reference.responses}`,
          valid ? 'OK' : 'INVALID',
          '0',
        ],
      );
      notes.push(
        `${name} page under load: ${fmt(axon.bytesPerResponse / 1024)} KiB per Axon answer ` +
          `(bare: ${fmt(reference.bytesPerResponse, 0)} B); p50 ${fmt(axon.p50, 0)} ms vs ` +
          `${fmt(reference.p50, 0)} ms bare; board of ${PAGE_BOARD_MESSAGES.toLocaleString('en')} messages.`,
      );
    }

    say(`${name}: page times, 1k board vs 1M board (sequential, alternating)…`);
    const pages = await pageTimes(base2, boardIds.small, boardIds.big);
    const pageRow = (kind: 'first' | 'deep', p: 50 | 99): Row => {
      const big = percentile(pages.big[kind], p);
      const small = percentile(pages.small[kind], p);
      const label =
        kind === 'first'
          ? 'first page'
          : `deep page (1M: page ${pages.big.deepPage}, 1k: page ${pages.small.deepPage})`;
      return [
        `${label} p${p} ms, 1M vs 1k board (${name})`,
        fmt(big, 2),
        `${fmt(small, 2)} 1k board`,
        ratio(big, small),
        `≤ ${PAGE_RATIO_TARGET}× ${verdict(big / small <= PAGE_RATIO_TARGET)}`,
      ];
    };
    rows.push(pageRow('first', 50), pageRow('first', 99), pageRow('deep', 50), pageRow('deep', 99));
    notes.push(
      `${name} page times: ${pages.rounds} samples per figure; the 1k board has only ` +
        `${Math.ceil(SMALL_BOARD_MESSAGES / PAGE_LIMIT)} pages, so its deep page is its last.`,
    );

    say(`${name}: search over ${textGen.docs.toLocaleString('en')} seeded messages…`);
    const queries = searchQueries(textGen);
    const search = await searchTimes(base2, queries);
    const all: number[] = [];
    for (const [c, list] of Object.entries(queries) as Array<[SearchClass, SearchQuery[]]>) {
      const t = search.times[c];
      all.push(...t);
      const p50 = percentile(t, 50);
      rows.push([
        `search "${c}" p50 / p99 ms (${name})`,
        `${fmt(p50, 1)} / ${fmt(percentile(t, 99), 1)}`,
        '—',
        '—',
        `p50 ≤ ${SEARCH_P50_TARGET_MS} ${verdict(p50 <= SEARCH_P50_TARGET_MS)}`,
      ]);
      notes.push(
        `${name} search "${c}" (${t.length} samples): ` +
          list
            .map(
              (q) =>
                `${q.q}${q.docs === undefined ? '' : ` [${q.docs.toLocaleString('en')} docs]`}` +
                ` → ${search.hits.get(q.q) ?? '?'} on page 1`,
            )
            .join('; '),
      );
    }
    notes.push(
      `${name} search classes: rare = the ${SEARCH_WORDS_PER_CLASS} words in fewest messages, ` +
        `medium ≈ 1% of messages, common ≈ 15%; [n docs] = messages holding the word.`,
    );
    const overall = percentile(all, 50);
    rows.push([
      `search overall p50 / p99 ms, 1M messages (${name})`,
      `${fmt(overall, 1)} / ${fmt(percentile(all, 99), 1)}`,
      '—',
      '—',
      `p50 ≤ ${SEARCH_P50_TARGET_MS} ${verdict(overall <= SEARCH_P50_TARGET_MS)}`,
    ]);
    return { rows, notes };
  } catch (error) {
    if (server !== undefined) console.error(`server output:\n${server.output()}`);
    throw error;
  } finally {
    await server?.stop();
    await database.drop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const postgresOnly = args.has('--postgres-only');
  const postgres =
    postgresOnly || args.has('--postgres') || process.env.AXON_BENCH_POSTGRES === '1';
  const started = performance.now();
  say(
    `node ${process.version}, ${os.availableParallelism()} cores; ` +
      `load average at start: ${loadAverage()}`,
  );
  const fs = statfsSync(os.tmpdir());
  const free = fs.bavail * fs.bsize;
  say(`${os.tmpdir()}: ${fmt(free / 1024 ** 3)} GiB free`);
  if (free < MIN_FREE_TMP_BYTES) {
    throw new Error(`need ${MIN_FREE_TMP_BYTES / 1024 ** 3} GiB free in ${os.tmpdir()}`);
  }

  const rows: Row[] = [];
  const notes: string[] = [];
  if (!postgresOnly) {
    const run = await runDialect('sqlite', { load: true });
    rows.push(...run.rows);
    notes.push(...run.notes);
  }
  if (postgres) {
    const run = await runDialect('postgres', { load: false });
    rows.push(...run.rows);
    notes.push(...run.notes);
  }

  console.log('');
  console.log(markdownTable(['metric', 'Axon', 'reference', 'ratio', 'target'], rows));
  console.log('');
  for (const note of notes) console.log(`- ${note}`);
  console.log(
    `- load average at end: ${loadAverage()}; whole run ${fmt((performance.now() - started) / 1000, 0)} s.`,
  );
  if (rows.some((r) => r[3] === 'INVALID')) {
    console.log('INVALID RUN: some requests did not answer as expected.');
    process.exitCode = 1;
  }
}

await main();
