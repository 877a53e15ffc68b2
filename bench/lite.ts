// bench:lite — the pages without JavaScript beside the API's JSON for the same data, in one run
// against one `axon start` (SQLite): bytes of each answer and the time to answer it (median and
// p99 of sequential requests, so the figure is the server's, not a queue's), for a board's first
// page of threads and a thread's first page of posts. --quick: fewer requests.
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { api, createBoard, register } from './boards/api.js';
import { promoteSysop } from './boards/seed.js';
import { SERVER_ENV } from './boards/options.js';
import { fmt, loadAverage, markdownTable, percentile, ratio, say, startAxon } from './support.js';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 20 : 300;
const THREADS = 30;
const REPLIES = 30;
const PAGE = 25;

function get(url: string, agent: http.Agent): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode}`));
          else resolve({ bytes, ms: performance.now() - started });
        });
      })
      .on('error', reject);
  });
}

async function measure(url: string, agent: http.Agent) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const answer = await get(url, agent);
    bytes = answer.bytes;
    if (i >= 3) times.push(answer.ms);
  }
  return { bytes, p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function main(): Promise<void> {
  const startLoad = loadAverage();
  say(`load average at start: ${startLoad}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'axon-bench-lite-'));
  const server = await startAxon(SERVER_ENV, { dataDir });
  try {
    const base = server.url;
    const token = await register(base, 'lite_bench');
    await promoteSysop({ dialect: 'sqlite', path: path.join(dataDir, 'axon.db') }, 'lite_bench');
    const board = await createBoard(base, token, 'Lite bench');
    let thread = '';
    for (let i = 0; i < THREADS; i++) {
      const { data } = await api(`${base}/api/messages/`, {
        method: 'POST',
        token,
        json: {
          board_id: board,
          subject: `Thread ${i}`,
          body: `**Opening** words of thread ${i}.`,
        },
        expect: 201,
      });
      thread = (data as { id: string }).id;
    }
    for (let i = 0; i < REPLIES; i++) {
      await api(`${base}/api/messages/`, {
        method: 'POST',
        token,
        json: {
          board_id: board,
          subject: 'Re',
          body: `Reply ${i} with _some_ Markdown.`,
          parent_id: thread,
        },
        expect: 201,
      });
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    say(`${ROUNDS} requests per page…`);
    const pairs = [
      [
        "a board's threads",
        `${base}/lite/boards/${board}/`,
        `${base}/api/boards/${board}/messages/?threads=true&limit=${PAGE}`,
      ],
      [
        "a thread's posts",
        `${base}/lite/messages/${thread}/`,
        `${base}/api/messages/${thread}/?limit=${PAGE}`,
      ],
    ] as const;
    const rows: string[][] = [];
    for (const [what, lite, json] of pairs) {
      const l = await measure(lite, agent);
      const j = await measure(json, agent);
      rows.push(
        [`${what}: bytes`, String(l.bytes), String(j.bytes), ratio(l.bytes, j.bytes)],
        [`${what}: time p50 (ms)`, fmt(l.p50, 2), fmt(j.p50, 2), ratio(l.p50, j.p50)],
        [`${what}: time p99 (ms)`, fmt(l.p99, 2), fmt(j.p99, 2), ratio(l.p99, j.p99)],
      );
    }
    agent.destroy();
    console.log();
    console.log(
      `${PAGE} threads or posts a page; ${THREADS} threads, one with ${REPLIES} replies; sequential requests on one keep-alive connection.`,
    );
    console.log();
    console.log(
      markdownTable(['measure', 'lite page (HTML)', 'API (JSON), same data', 'ratio'], rows),
    );
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  console.log();
  say(`load average at start: ${startLoad}; at end: ${loadAverage()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
