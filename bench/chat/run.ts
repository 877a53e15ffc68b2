// One run: a fresh server, N clients of one mode, EVENTS posts one at a time.
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BASELINE_POSTS,
  type Backend,
  EVENTS,
  EVENT_DEADLINE_MS,
  MAX_ERRORS_PER_RUN,
  type Mode,
  READER_ACCOUNTS,
  RSS_SAMPLE_MS,
  RUN_DEADLINE_MS,
  SETTLE_JITTER,
  SPEC_SEED,
  WARMUP_EVENTS,
  settleMs,
} from './options.js';
import { type ClientContext, Deliveries, longPollClient, sseClient } from './clients.js';
import { cpuSeconds, rssBytes, startServer } from './server.js';
import { dataOf, register, request } from './http.js';
import { percentile, say, seededRandom } from '../support.js';
export interface RunResult {
  dialect: Backend;
  mode: Mode;
  clients: number;
  latencies: number[];
  missed: number;
  errors: number;
  errorKinds: Map<string, number>;
  duplicates: number;
  /** Post times of the measured events, ms from the first. */
  schedule: number[];
  /** Per event: the first client's latency, and the last one's minus the first's. */
  firstClient: number[];
  fanOut: number[];
  rssPeak: number;
  serverCpu: number;
  clientCpu: number;
  clientLoopP99: number;
  postP50: number;
  postAloneP50: number;
}

export async function run(dialect: Backend, mode: Mode, clients: number): Promise<RunResult> {
  const server = await startServer(dialect);
  const sockets = new Set<net.Socket>();
  const postAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let stopped = false;
  let rssPeak = rssBytes(server.pid);
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssBytes(server.pid) || 0);
  }, RSS_SAMPLE_MS);
  try {
    const tag = randomBytes(3).toString('hex');
    // The floor server takes anything as a token.
    const [poster, ...readers] = await Promise.all(
      Array.from({ length: 1 + READER_ACCOUNTS }, (_, i) =>
        dialect === 'floor' || dialect === 'floor-2'
          ? 'floor'
          : register(server.url, postAgent, `bench${tag}_${i}`),
      ),
    );
    // The write path alone: POSTs with nobody waiting, a floor under any post-to-receive time.
    const alone: number[] = [];
    for (let i = 0; i < BASELINE_POSTS; i++) {
      const at = performance.now();
      const posted = await request(`${server.url}/api/chat/post/`, {
        agent: postAgent,
        method: 'POST',
        json: { text: `nobody is listening ${i}` },
        token: poster!,
      });
      dataOf(posted, 201, 'post');
      if (i >= 2) alone.push(posted.at - at);
      await sleep(50);
    }
    const start = Number(
      dataOf<{ next_cursor: string }>(
        await request(`${server.url}/api/chat/read_events/?limit=1`, {
          agent: postAgent,
          token: poster!,
        }),
        200,
        'read the cursor',
      ).next_cursor,
    );

    const deliveries = new Deliveries(clients);
    const errorKinds = new Map<string, number>();
    let errors = 0;
    const ctx: ClientContext = {
      url: server.url,
      sockets,
      deliveries,
      stopped: () => stopped,
      fail: (what) => {
        errors++;
        errorKinds.set(what, (errorKinds.get(what) ?? 0) + 1);
      },
    };
    const client = mode === 'long-poll' ? longPollClient : sseClient;
    const running = Array.from({ length: clients }, (_, i) =>
      client(ctx, i, readers[i % readers.length]!, start),
    );

    const random = seededRandom(SPEC_SEED ^ clients);
    const sent: Array<{ cursor: number; at: number }> = [];
    const postTimes: number[] = [];
    const runDeadline = performance.now() + RUN_DEADLINE_MS;
    let missed = 0;
    let cpuServer0 = 0;
    let cpuClient0 = process.cpuUsage();
    let wall0 = 0;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    for (let i = 0; i < WARMUP_EVENTS + EVENTS; i++) {
      if (performance.now() > runDeadline) throw new Error('the run passed its deadline');
      if (errors > MAX_ERRORS_PER_RUN) throw new Error(`more than ${MAX_ERRORS_PER_RUN} errors`);
      const settle = settleMs(clients) * (1 + SETTLE_JITTER * (2 * random() - 1));
      await sleep(i === 0 ? 2 * settleMs(clients) : settle);
      if (i === WARMUP_EVENTS) {
        cpuServer0 = cpuSeconds(server.pid);
        cpuClient0 = process.cpuUsage();
        wall0 = performance.now();
        loop.enable();
      }
      const at = performance.now();
      const posted = await request(`${server.url}/api/chat/post/`, {
        agent: postAgent,
        method: 'POST',
        json: { text: `bench event ${i}` },
        token: poster!,
      });
      const cursor = Number(dataOf<{ cursor: string }>(posted, 201, 'post').cursor);
      if (i >= WARMUP_EVENTS) {
        sent.push({ cursor, at });
        postTimes.push(posted.at - at);
      }
      if (!(await deliveries.everyone(cursor, EVENT_DEADLINE_MS))) {
        say(`event ${cursor}: not every client had it after ${EVENT_DEADLINE_MS} ms`);
      }
    }
    loop.disable();
    const wall = (performance.now() - wall0) / 1000;
    const serverCpu = (cpuSeconds(server.pid) - cpuServer0) / wall;
    const clientUsage = process.cpuUsage(cpuClient0);
    const clientCpu = (clientUsage.user + clientUsage.system) / 1e6 / wall;

    const latencies: number[] = [];
    const firstClient: number[] = [];
    const fanOut: number[] = [];
    for (const { cursor, at } of sent) {
      let first = Infinity;
      let last = -Infinity;
      for (const t of deliveries.times(cursor)) {
        if (Number.isNaN(t)) {
          missed++;
          continue;
        }
        latencies.push(t - at);
        first = Math.min(first, t - at);
        last = Math.max(last, t - at);
      }
      if (Number.isFinite(first)) {
        firstClient.push(first);
        fanOut.push(last - first);
      }
    }
    stopped = true;
    for (const socket of sockets) socket.destroy();
    await Promise.all(running);
    return {
      dialect,
      mode,
      clients,
      latencies,
      missed,
      errors,
      errorKinds,
      duplicates: deliveries.duplicates,
      schedule: sent.map((s) => s.at - sent[0]!.at),
      firstClient,
      fanOut,
      rssPeak,
      serverCpu,
      clientCpu,
      clientLoopP99: loop.percentile(99) / 1e6,
      postP50: percentile(postTimes, 50),
      postAloneP50: percentile(alone, 50),
    };
  } finally {
    stopped = true;
    clearInterval(rssTimer);
    for (const socket of sockets) socket.destroy();
    postAgent.destroy();
    await server.stop();
  }
}
