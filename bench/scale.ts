// bench:scale — what a second server process buys (issue: Operations, "Several processes"), in one
// run on PostgreSQL: the chat fan-out to 1,000 long-poll and 1,000 SSE clients (bench:chat's
// clients and schedule) against one process and against `axon start --workers 2`, beside the
// single-process bare fan-out floor of bench:chat; and the board page's throughput under load
// (bench:boards' autocannon load) with one and with two processes. Targets: with two processes the
// chat p50 at 1,000 clients is below the floor's, and page throughput is at least 1.6× one
// process's. Beside them, what this machine allows a second process to add at all: the bare
// fan-out floor with one and with two processes, and a bare Fastify app answering the same page's
// bytes with one and with two processes under the same load.
// --quick: small sizes, to check the bench itself.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MODE_NAME, type Backend, type Mode } from './chat/options.js';
import { run, type RunResult } from './chat/run.js';
import { createBoard, api, pageUrl, register } from './boards/api.js';
import { getLoad, type LoadFigures } from './boards/load.js';
import { LOAD_SECONDS, LOAD_WARMUP_SECONDS, SERVER_ENV } from './boards/options.js';
import { promoteSysop } from './boards/seed.js';
import {
  cleanUpOnExit,
  fmt,
  loadAverage,
  markdownTable,
  percentile,
  ratio,
  say,
  startAxon,
  startBareFastify,
  throwawayPostgres,
} from './support.js';

const QUICK = process.argv.includes('--quick');
const CLIENTS = QUICK ? 100 : 1000;
const PAGE_MESSAGES = QUICK ? 20 : 60;
const MODES: Mode[] = ['long-poll', 'sse'];
const PAGE_THROUGHPUT_TARGET = 1.6;

cleanUpOnExit();

/** Requests per second of a board's first page, with `processes` server processes; and the page. */
async function pageThroughput(processes: 1 | 2): Promise<LoadFigures & { page: string }> {
  const database = await throwawayPostgres('axon_bench_scale');
  const server = await startAxon(
    { ...SERVER_ENV, DATABASE_URL: database.url },
    { args: processes === 1 ? ['start'] : ['start', '--workers', String(processes)] },
  );
  try {
    const base = server.url;
    const sysop = await register(base, 'scale_sysop');
    await promoteSysop({ dialect: 'postgres', url: database.url }, 'scale_sysop');
    const board = await createBoard(base, sysop, 'scale board');
    for (let i = 0; i < PAGE_MESSAGES; i++) {
      await api(`${base}/api/messages/`, {
        method: 'POST',
        token: sysop,
        json: { board_id: board, subject: `Thread ${i}`, body: `Message ${i} of the scale bench.` },
        expect: 201,
      });
    }
    const page = await (await fetch(pageUrl(base, board))).text();
    await getLoad(pageUrl(base, board), LOAD_WARMUP_SECONDS);
    return { ...(await getLoad(pageUrl(base, board), LOAD_SECONDS)), page };
  } finally {
    await server.stop();
    await database.drop();
  }
}

/** Requests per second of a bare Fastify app answering `page`, with `processes` processes. */
async function bareThroughput(page: string, processes: 1 | 2): Promise<LoadFigures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'axon-bench-scale-'));
  const bodyFile = path.join(dir, 'page.json');
  await writeFile(bodyFile, page);
  const bare = await startBareFastify({ workers: processes, bodyFile });
  try {
    await getLoad(bare.url, LOAD_WARMUP_SECONDS);
    return await getLoad(bare.url, LOAD_SECONDS);
  } finally {
    await bare.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const startLoad = loadAverage();
  say(`load average at start: ${startLoad} (${os.availableParallelism()} cores)`);
  const chat = new Map<string, RunResult>();
  for (const backend of ['floor', 'floor-2', 'postgres', 'postgres-2'] as Backend[]) {
    for (const mode of MODES) {
      say(`chat: ${backend}, ${MODE_NAME[mode]}, ${CLIENTS} clients…`);
      const result = await run(backend, mode, CLIENTS);
      say(`  p50 ${fmt(percentile(result.latencies, 50))} ms`);
      chat.set(`${backend}/${mode}`, result);
    }
  }
  say('board page throughput, 1 process…');
  const one = await pageThroughput(1);
  say('board page throughput, 2 processes…');
  const two = await pageThroughput(2);
  say('bare Fastify answering the same page, 1 and 2 processes…');
  const bareOne = await bareThroughput(one.page, 1);
  const bareTwo = await bareThroughput(one.page, 2);
  const machineScaling = bareTwo.perSecond / bareOne.perSecond;

  const rows: string[][] = [];
  const row = (measure: string, single: string, double: string, versus: string, target: string) =>
    rows.push([measure, single, double, versus, target]);
  for (const mode of MODES) {
    const [floor, floor2, single, double] = ['floor', 'floor-2', 'postgres', 'postgres-2'].map(
      (b) => chat.get(`${b}/${mode}`)!,
    ) as [RunResult, RunResult, RunResult, RunResult];
    const name = `chat ${MODE_NAME[mode]}, ${CLIENTS} clients`;
    for (const p of [50, 99]) {
      const value = (r: RunResult) => percentile(r.latencies, p);
      row(
        `${name}, p${p} (ms)`,
        fmt(value(single)),
        fmt(value(double)),
        ratio(value(double), value(single)),
        p === 50 ? `2 processes < the 1-process floor, ${fmt(value(floor))} ms` : '—',
      );
      row(
        `${name}, p${p} (ms), floor: bare node:http`,
        fmt(value(floor)),
        fmt(value(floor2)),
        ratio(value(floor2), value(floor)),
        'what a second process gives the bare fan-out on this machine',
      );
      row(
        `${name}, p${p}, Axon ÷ floor`,
        ratio(value(single), value(floor)),
        ratio(value(double), value(floor2)),
        '—',
        p === 50
          ? '2 processes ≤ 1.2× the 2-process floor, where the floor shows 1 is out of reach'
          : '—',
      );
    }
    const errors = (r: RunResult) => String(r.errors + r.missed + r.duplicates);
    row(
      `${name}, errors (Axon; floor)`,
      `${errors(single)}; ${errors(floor)}`,
      `${errors(double)}; ${errors(floor2)}`,
      '—',
      '0',
    );
  }
  row(
    'board page, requests/s',
    fmt(one.perSecond, 0),
    fmt(two.perSecond, 0),
    ratio(two.perSecond, one.perSecond),
    `≥ ${PAGE_THROUGHPUT_TARGET}× one process`,
  );
  row(
    'bare Fastify, same page bytes, requests/s',
    fmt(bareOne.perSecond, 0),
    fmt(bareTwo.perSecond, 0),
    ratio(bareTwo.perSecond, bareOne.perSecond),
    'what a second process gives a bare app on this machine (the load generator shares the cores)',
  );
  row(
    "board page's 2 ÷ 1, over the bare app's",
    '—',
    '—',
    fmt(two.perSecond / one.perSecond / machineScaling, 2),
    `≥ ${fmt(1 / 1.2, 2)} (within 1.2× of the bare app's), where ${PAGE_THROUGHPUT_TARGET}× is out of the bare app's reach`,
  );
  row('board page, p50 (ms)', fmt(one.p50), fmt(two.p50), ratio(two.p50, one.p50), '—');
  row(
    'board page, non-2xx + errors',
    String(one.non2xx + one.errors),
    String(two.non2xx + two.errors),
    '—',
    '0',
  );
  console.log();
  console.log(
    markdownTable(['measure (PostgreSQL)', '1 process', '2 processes', '2 ÷ 1', 'target'], rows),
  );
  console.log();
  say(`load average at start: ${startLoad}; at end: ${loadAverage()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
