// The boards benchmark: four measurements printed as one markdown table — a 50-message page under
// load beside a bare Fastify route, posting throughput beside raw RSA-PSS signing (boards/load.ts),
// page time in a 1k vs a 1M-message board (boards/pages.ts), and search latency over 1M messages
// (boards/search.ts), the boards seeded through the migrations while no server holds the database
// (boards/seed.ts, text from boards/text.ts). SQLite always; items 3 and 4 on PostgreSQL too with
// --postgres (or AXON_BENCH_POSTGRES=1), on PostgreSQL alone with --postgres-only.
import os from 'node:os';
import { statfsSync } from 'node:fs';
import { RSA_BITS } from '../src/crypto/keys.js';
import type { Dialect } from '../src/server/db/database.js';
import { createBoard, register } from './boards/api.js';
import { pageUnderLoad, postLoad, signingReference } from './boards/load.js';
import {
  BARE_RATIO_TARGET,
  BIG_BOARD_MESSAGES,
  DIALECT_NAME,
  LOAD_CONNECTIONS,
  MIN_FREE_TMP_BYTES,
  PAGE_BOARD_MESSAGES,
  PAGE_LIMIT,
  PAGE_RATIO_TARGET,
  POST_CONNECTIONS,
  POST_SECONDS,
  POSTERS,
  SEARCH_P50_TARGET_MS,
  SEARCH_WORDS_PER_CLASS,
  SERVER_ENV,
  SIGN_SECONDS,
  SMALL_BOARD_MESSAGES,
  TEXT_SEED,
} from './boards/options.js';
import { pageTimes } from './boards/pages.js';
import { searchQueries, searchTimes, type SearchClass, type SearchQuery } from './boards/search.js';
import {
  authorsNamed,
  benchDatabase,
  promoteSysop,
  seedMessages,
  type SeedBoard,
} from './boards/seed.js';
import { TextGenerator } from './boards/text.js';
import {
  fmt,
  loadAverage,
  markdownTable,
  percentile,
  ratio,
  say,
  startAxon,
  type RunningServer,
} from './support.js';

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
  const database = await benchDatabase(dialect);
  const env = { ...SERVER_ENV, ...database.env };
  const start = () => startAxon(env, { dataDir: database.dataDir });
  let server: RunningServer | undefined;
  try {
    server = await start();
    const base = server.url;
    say(`${name}: server up at ${base}; registering a sysop and ${POSTERS} posters…`);
    const posterNames = Array.from({ length: POSTERS }, (_, i) => `bench_poster_${i}`);
    const [sysopToken, ...posterTokens] = await Promise.all(
      ['bench_sysop', ...posterNames].map((u) => register(base, u)),
    );
    await promoteSysop(database.config, 'bench_sysop');
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

    const authors = await authorsNamed(database.config, posterNames);
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
    await seedMessages(database.config, seedBoards, authors, textGen);

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
