// The chat benchmark: post-to-receive latency of AxonChat events with 100 and 1,000 waiting
// long-poll clients and with 100 and 1,000 SSE clients, against one server child process (a fresh
// one per run, SQLite, and PostgreSQL unless --sqlite-only), beside the spec's original design
// (clients poll every 2 s, the server picks new messages up every 1 s, both at random phases)
// simulated on the same post schedule with a seeded RNG. Every reader runs in this process, as a
// minimal HTTP/1.1 client on a raw socket (the poster uses node:http); this process's CPU use and
// event-loop delay are printed so a saturated client side shows.
// AXON_BENCH_CPU_PROF=<dir> runs the server with --cpu-prof into that directory. The parts live in
// bench/chat/: options, the server child, the poster's HTTP, the readers, one run, the spec's design.
import os from 'node:os';
import {
  BACKEND_NAME,
  type Backend,
  CLIENT_COUNTS,
  EVENTS,
  MODE_NAME,
  NO_FLOOR,
  ONLY_CLIENTS,
  ONLY_MODE,
  SETTLE_JITTER,
  SPEC_SEED,
  SQLITE_ONLY,
  TARGET_P50_MS,
  TARGET_P99_MS,
  settleMs,
} from './chat/options.js';
import { type RunResult, run } from './chat/run.js';
import {
  cleanUpOnExit,
  fmt,
  loadAverage,
  markdownTable,
  percentile,
  ratio,
  say,
} from './support.js';
import { specLatencies } from './chat/spec-design.js';

cleanUpOnExit();

async function main(): Promise<void> {
  const startLoad = loadAverage();
  say(`load average at start: ${startLoad} (${os.availableParallelism()} cores)`);
  const backends: Backend[] = [
    'sqlite',
    ...(SQLITE_ONLY ? [] : (['postgres'] as const)),
    ...(NO_FLOOR ? [] : (['floor'] as const)),
  ];
  const results: RunResult[] = [];
  for (const dialect of backends) {
    for (const mode of ['long-poll', 'sse'] as const) {
      if (ONLY_MODE !== undefined && ONLY_MODE !== mode) continue;
      for (const clients of CLIENT_COUNTS) {
        if (ONLY_CLIENTS !== undefined && Number(ONLY_CLIENTS) !== clients) continue;
        say(`${BACKEND_NAME[dialect]}, ${MODE_NAME[mode]}, ${clients} clients…`);
        const result = await run(dialect, mode, clients);
        say(
          `  p50 ${fmt(percentile(result.latencies, 50))} ms, p99 ${fmt(
            percentile(result.latencies, 99),
          )} ms, errors ${result.errors + result.missed + result.duplicates}, server CPU ${fmt(
            result.serverCpu * 100,
            0,
          )}%, client CPU ${fmt(result.clientCpu * 100, 0)}%`,
        );
        results.push(result);
      }
    }
  }

  const floorOf = (r: RunResult) =>
    results.find((f) => f.dialect === 'floor' && f.mode === r.mode && f.clients === r.clients);
  const rows: string[][] = [];
  for (const r of results) {
    if (r.dialect === 'floor') continue;
    const floor = floorOf(r);
    const floorFigure = (figure: (f: RunResult) => string) =>
      floor === undefined ? '—' : figure(floor);
    const spec = specLatencies(r.schedule, r.clients, SPEC_SEED + r.clients);
    const at1000 = r.clients >= 1000;
    const name = `${BACKEND_NAME[r.dialect]}, ${MODE_NAME[r.mode]}, ${r.clients} clients`;
    const axon50 = percentile(r.latencies, 50);
    const axon99 = percentile(r.latencies, 99);
    const spec50 = percentile(spec, 50);
    const spec99 = percentile(spec, 99);
    const errorsOf = (x: RunResult) => String(x.errors + x.missed + x.duplicates);
    rows.push(
      [
        `${name}: p50 (ms)`,
        fmt(axon50),
        fmt(spec50, 0),
        ratio(axon50, spec50),
        floorFigure((f) => fmt(percentile(f.latencies, 50))),
        at1000 ? `≤ ${TARGET_P50_MS}` : '—',
      ],
      [
        `${name}: p99 (ms)`,
        fmt(axon99),
        fmt(spec99, 0),
        ratio(axon99, spec99),
        floorFigure((f) => fmt(percentile(f.latencies, 99))),
        at1000 ? `≤ ${TARGET_P99_MS}` : '—',
      ],
      [
        `${name}: max (ms)`,
        fmt(Math.max(...r.latencies)),
        fmt(Math.max(...spec), 0),
        '—',
        floorFigure((f) => fmt(Math.max(...f.latencies))),
        '—',
      ],
      [`${name}: errors`, errorsOf(r), '—', '—', floorFigure(errorsOf), at1000 ? '0' : '—'],
      [
        `${name}: server RSS peak (MB)`,
        fmt(r.rssPeak / 1024 ** 2, 0),
        '—',
        '—',
        floorFigure((f) => fmt(f.rssPeak / 1024 ** 2, 0)),
        '—',
      ],
    );
  }
  console.log();
  console.log(
    `Post-to-receive latency, ${EVENTS} events posted one at a time (each after every client had the one before, then ${settleMs(100)}–${settleMs(1000)} ms ±${SETTLE_JITTER * 100}%); ` +
      `spec design: 2 s client polls, 1 s server pick-up, random phases, same schedule, seed ${SPEC_SEED}.`,
  );
  console.log();
  console.log(
    markdownTable(
      ['metric', 'Axon', 'spec design', 'ratio', 'floor: bare node:http, same clients', 'target'],
      rows,
    ),
  );
  if (!NO_FLOOR) {
    console.log();
    console.log(
      'floor: a bare node:http process that only fans each event out (no database, signature or ' +
        'authentication), measured by the same clients in this run: the fastest this machine ' +
        'delivers to that many sockets.',
    );
  }
  console.log();
  console.log(
    markdownTable(
      [
        'run',
        'first client p50 (ms)',
        'fan-out p50 (ms)',
        'POST answer p50 (ms)',
        'POST, nobody waiting, p50 (ms)',
        'server CPU',
        'client CPU',
        'client loop delay p99 (ms)',
        'errors by kind',
      ],
      results.map((r) => [
        `${BACKEND_NAME[r.dialect]}, ${MODE_NAME[r.mode]}, ${r.clients}`,
        fmt(percentile(r.firstClient, 50)),
        fmt(percentile(r.fanOut, 50)),
        fmt(r.postP50),
        fmt(r.postAloneP50),
        `${fmt(r.serverCpu * 100, 0)}%`,
        `${fmt(r.clientCpu * 100, 0)}%`,
        fmt(r.clientLoopP99),
        [
          ...[...r.errorKinds].map(([k, n]) => `${k} ×${n}`),
          ...(r.missed > 0 ? [`missed ×${r.missed}`] : []),
          ...(r.duplicates > 0 ? [`repeated ×${r.duplicates}`] : []),
        ].join('; ') || 'none',
      ]),
    ),
  );
  console.log();
  say(`load average at start: ${startLoad}; at end: ${loadAverage()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
