// The chat benchmark: post-to-receive latency of AxonChat events with 100 and 1,000 waiting
// long-poll clients and with 100 and 1,000 SSE clients, against one server child process (a fresh
// one per run, SQLite, and PostgreSQL unless --sqlite-only), beside the spec's original design
// (clients poll every 2 s, the server picks new messages up every 1 s, both at random phases)
// simulated on the same post schedule with a seeded RNG. Every reader runs in this process, as a
// minimal HTTP/1.1 client on a raw socket (the poster uses node:http); this process's CPU use and
// event-loop delay are printed so a saturated client side shows.
// AXON_BENCH_CPU_PROF=<dir> runs the server with --cpu-prof into that directory.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cleanUpOnExit,
  fmt,
  loadAverage,
  markdownTable,
  percentile,
  ratio,
  say,
  seededRandom,
  startAxon,
  throwawayPostgres,
  type RunningServer,
} from './support.js';
import { startNodeServer } from '../src/test-support/axon-process.js';

// --quick: small sizes, to check the bench itself; its figures mean nothing.
const QUICK = process.argv.includes('--quick');
const SQLITE_ONLY = process.argv.includes('--sqlite-only');
// --no-floor: skip the bare fan-out reference runs (FLOOR_SERVER_SOURCE).
const NO_FLOOR = process.argv.includes('--no-floor');
// --mode=sse|long-poll and --clients=N: only those runs (e.g. to profile one).
const argValue = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ONLY_MODE = argValue('mode');
const ONLY_CLIENTS = argValue('clients');

type Dialect = 'sqlite' | 'postgres';
/** Axon on a database, or the bare floor server (see FLOOR_SERVER_SOURCE). */
type Backend = Dialect | 'floor';
type Mode = 'long-poll' | 'sse';
const BACKEND_NAME: Record<Backend, string> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
  floor: 'floor: bare node:http',
};
const MODE_NAME: Record<Mode, string> = { 'long-poll': 'long poll', sse: 'SSE' };

const CLIENT_COUNTS = QUICK ? [20, 100] : [100, 1000];
const EVENTS = QUICK ? 10 : 50;
// Not measured: the first ones also carry the clients' connection set-up.
const WARMUP_EVENTS = 3;
// After every client got an event, long polls re-poll: give the server time to park them all again
// before the next post (jittered, so posts do not beat in step with anything periodic).
// --settle=MS overrides it (at most 10 s).
const SETTLE_OVERRIDE = argValue('settle');
const settleMs = (clients: number) =>
  SETTLE_OVERRIDE === undefined
    ? Math.max(200, clients)
    : Math.min(10_000, Math.max(0, Number(SETTLE_OVERRIDE) || 0));
const SETTLE_JITTER = 0.2;
const READER_ACCOUNTS = 4;
const BASELINE_POSTS = 12;
const LONG_POLL_WAIT_S = 30;
// Bounds: every loop stops on a count or a deadline.
const EVENT_DEADLINE_MS = 35_000;
const RUN_DEADLINE_MS = 10 * 60_000;
const MAX_POLLS_PER_CLIENT = 10_000;
const MAX_SSE_CONNECTS_PER_CLIENT = 20;
const REQUEST_TIMEOUT_MS = 45_000;
const RSS_SAMPLE_MS = 100;
const MAX_ERRORS_PER_RUN = 10_000;
// The spec's design.
const SPEC_CLIENT_POLL_MS = 2000;
const SPEC_SERVER_POLL_MS = 1000;
const SPEC_SEED = 0x0c4a_7e57;
// Targets at 1,000 clients.
const TARGET_P50_MS = 10;
const TARGET_P99_MS = 50;

const PASSWORD = 'correct horse battery staple';
const SERVER_ENV = {
  LOG_LEVEL: 'warn',
  AXON_LOGIN_RATE_LIMIT: '100000',
  AXON_REGISTER_RATE_LIMIT: '100000',
};
// ---------------------------------------------------------------------------------------------
// Cleanup: child processes, temp dirs and databases are undone on any exit, SIGINT included.

cleanUpOnExit();

// ---------------------------------------------------------------------------------------------
// The server child.

type Server = RunningServer;

/**
 * `node bin/axon.js start` (or the floor server) on a loopback port the system picks, with a fresh
 * data directory and, on PostgreSQL, a throwaway database; resolves once it says it is up.
 */
async function startServer(dialect: Backend): Promise<Server> {
  if (dialect === 'floor') {
    const floor = await startNodeServer(
      ['-e', FLOOR_SERVER_SOURCE],
      /^Axon BBS is up at (http:\/\/127\.0\.0\.1:\d+)$/,
    );
    return {
      url: floor.url,
      pid: floor.pid,
      output: floor.output,
      stop: async () => void (await floor.stop()),
    };
  }
  const database = dialect === 'postgres' ? await throwawayPostgres('axon_bench_chat') : undefined;
  const profileDir = process.env.AXON_BENCH_CPU_PROF;
  try {
    const server = await startAxon(
      { ...SERVER_ENV, ...(database === undefined ? {} : { DATABASE_URL: database.url }) },
      { nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir] },
    );
    return {
      ...server,
      stop: async () => {
        await server.stop();
        await database?.drop();
      },
    };
  } catch (error) {
    await database?.drop();
    throw error;
  }
}

// The floor: what this machine gives the same clients when the server does nothing but the
// fan-out. A bare node:http process with the three routes the clients use and no database, no
// signature, no authentication: a POST writes one event (of the size of Axon's) to every open
// stream and answers every parked long poll, in one loop. Axon cannot beat it on this machine; the
// difference between the two is what Axon's own work costs.
const FLOOR_SERVER_SOURCE = `
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const streams = new Set();
const parked = new Set();
const events = [];
const board = randomUUID();
const user = randomUUID();
const answer = (res, status, data) => {
  const body = JSON.stringify({ success: true, data, error: null });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const after = (cursor) => events.filter((e) => Number(e.cursor) > cursor).slice(0, 100);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://floor');
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => {
      const at = new Date();
      const text = 'bench event ' + events.length;
      const event = {
        cursor: String(events.length + 1), id: randomUUID(), board_id: board, subject: 'AxonChat',
        body: text, body_html: '<p>' + text + '</p>',
        author: { fingerprint: 'f'.repeat(64), nickname: 'bench', user_id: user, avatar_url: null },
        created_at: at.toISOString(), created_at_local: at.toISOString().slice(0, 19).replace('T', ' '),
      };
      events.push(event);
      const frame = 'id: ' + event.cursor + '\\nevent: message\\ndata: ' + JSON.stringify(event) + '\\n\\n';
      for (const stream of streams) {
        stream.write(frame);
        stream.socket.uncork();
      }
      for (const poll of parked) answer(poll.res, 200, { events: [event], next_cursor: event.cursor });
      parked.clear();
      answer(res, 201, event);
    });
    return;
  }
  const cursor = Number(url.searchParams.get('after') ?? events.length);
  if (url.pathname.endsWith('/stream/')) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.write('retry: 3000\\n\\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return;
  }
  const ready = after(cursor);
  if (ready.length > 0 || url.searchParams.get('wait') === null) {
    answer(res, 200, { events: ready, next_cursor: String(ready.at(-1)?.cursor ?? events.length) });
    return;
  }
  const poll = { res };
  parked.add(poll);
  req.on('close', () => parked.delete(poll));
});
server.listen(0, '127.0.0.1', () => console.log('Axon BBS is up at http://127.0.0.1:' + server.address().port));
`;

/** Resident memory of a process in bytes (VmRSS), or NaN once it is gone. */
function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of a process so far (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP.

interface Answer {
  status: number;
  body: string;
  /** performance.now() when the last byte arrived. */
  at: number;
}

function request(
  url: string,
  options: { agent: http.Agent; method?: 'GET' | 'POST'; json?: unknown; token?: string },
): Promise<Answer> {
  const body = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  const headers: http.OutgoingHttpHeaders = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        headers,
        agent: options.agent,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            at: performance.now(),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function dataOf<T>(answer: Answer, expected: number, what: string): T {
  if (answer.status !== expected) throw new Error(`${what}: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { data: T }).data;
}

async function register(url: string, agent: http.Agent, username: string): Promise<string> {
  const answer = await request(`${url}/api/auth/register/`, {
    agent,
    method: 'POST',
    json: { username, password: PASSWORD },
  });
  return dataOf<{ token: string }>(answer, 201, `register ${username}`).token;
}

// ---------------------------------------------------------------------------------------------
// Who got which event when.

class Deliveries {
  private readonly byCursor = new Map<number, { times: Float64Array; count: number }>();
  private waiter: { cursor: number; resolve: () => void } | undefined;
  duplicates = 0;

  constructor(readonly clients: number) {}

  record(cursor: number, client: number, at: number): void {
    let entry = this.byCursor.get(cursor);
    if (entry === undefined) {
      entry = { times: new Float64Array(this.clients).fill(Number.NaN), count: 0 };
      this.byCursor.set(cursor, entry);
    }
    if (!Number.isNaN(entry.times[client]!)) {
      this.duplicates++;
      return;
    }
    entry.times[client] = at;
    entry.count++;
    if (this.waiter?.cursor === cursor && entry.count === this.clients) this.waiter.resolve();
  }

  /** True once every client got the event; false when the deadline passed first. */
  async everyone(cursor: number, deadlineMs: number): Promise<boolean> {
    if ((this.byCursor.get(cursor)?.count ?? 0) === this.clients) return true;
    let timer: NodeJS.Timeout | undefined;
    const all = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.waiter = { cursor, resolve: () => resolve(true) };
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    this.waiter = undefined;
    return all;
  }

  times(cursor: number): Float64Array {
    return this.byCursor.get(cursor)?.times ?? new Float64Array(this.clients).fill(Number.NaN);
  }
}

interface ClientContext {
  url: string;
  deliveries: Deliveries;
  stopped: () => boolean;
  /** HTTP failures, bad answers, out-of-order cursors, dropped streams. */
  fail: (what: string) => void;
  /** Open client sockets, destroyed when the run ends. */
  sockets: Set<net.Socket>;
}

// The readers are minimal HTTP/1.1 clients on raw sockets: node:http's client costs ~10–15 µs of
// this process's CPU per answer, and with 1,000 readers in one process that queueing, not the
// server, would set the later readers' times. Each answer is timestamped in the socket's first
// 'data' event that completes it, before any parsing of its body.

const HEADER_END = Buffer.from('\r\n\r\n');

/** Opens a socket to the server; resolves once connected. */
function connect(ctx: ClientContext): Promise<net.Socket> {
  const { hostname, port } = new URL(ctx.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    ctx.sockets.add(socket);
    socket.once('close', () => ctx.sockets.delete(socket));
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function requestHead(ctx: ClientContext, target: string, headers: Record<string, string>): string {
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${new URL(ctx.url).host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status and headers of a response head (the bytes before the blank line). */
function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/**
 * A kept-alive connection sending one GET at a time and reading answers with a Content-Length
 * (what the long-poll route sends); rejects when the server closes it.
 */
class LongPollConnection {
  private pending: Buffer = Buffer.alloc(0);
  private waiting:
    { resolve: (answer: Answer) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.waiting?.reject(new Error('the server closed the connection')));
    socket.on('error', (error) => this.waiting?.reject(error));
  }

  static async open(ctx: ClientContext): Promise<LongPollConnection> {
    return new LongPollConnection(await connect(ctx));
  }

  get(head: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(head);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const at = performance.now();
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const headEnd = this.pending.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const { status, headers } = parseHead(this.pending.subarray(0, headEnd).toString('latin1'));
    const length = Number(headers.get('content-length'));
    if (!Number.isSafeInteger(length)) {
      this.waiting?.reject(new Error('an answer without Content-Length'));
      this.socket.destroy();
      return;
    }
    const bodyStart = headEnd + HEADER_END.length;
    if (this.pending.length < bodyStart + length) return;
    const body = this.pending.subarray(bodyStart, bodyStart + length).toString('utf8');
    this.pending = this.pending.subarray(bodyStart + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ status, body, at });
  }
}

/** One long-poll reader: wait=30 polls back to back, each from the last next_cursor. */
async function longPollClient(
  ctx: ClientContext,
  index: number,
  token: string,
  start: number,
): Promise<void> {
  let cursor = start;
  let connection: LongPollConnection | undefined;
  for (let polls = 0; polls < MAX_POLLS_PER_CLIENT && !ctx.stopped(); polls++) {
    let answer: Answer;
    try {
      connection ??= await LongPollConnection.open(ctx);
      answer = await connection.get(
        requestHead(
          ctx,
          `/api/chat/read_events/?after=${cursor}&wait=${LONG_POLL_WAIT_S}&limit=100`,
          {
            Authorization: `Bearer ${token}`,
          },
        ),
      );
    } catch (error) {
      connection?.close();
      connection = undefined;
      if (ctx.stopped()) return;
      ctx.fail(`poll: ${(error as Error).message}`);
      await sleep(100);
      continue;
    }
    // The arrival time is taken; parsing and the next poll wait until the answers that arrived
    // together with this one got theirs, so this client's own work does not delay their clocks.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (answer.status !== 200) {
      ctx.fail(`poll: status ${answer.status}`);
      await sleep(100);
      continue;
    }
    const batch = JSON.parse(answer.body) as {
      data: { events: Array<{ cursor: string }>; next_cursor: string };
    };
    for (const event of batch.data.events) {
      const c = Number(event.cursor);
      if (c <= cursor) ctx.fail('poll: a cursor out of order');
      ctx.deliveries.record(c, index, answer.at);
      cursor = c;
    }
    cursor = Math.max(cursor, Number(batch.data.next_cursor));
  }
  connection?.close();
}

/**
 * Decodes a chunked body as it arrives and hands over each complete SSE frame (the text before a
 * blank line); throws on a malformed chunk.
 */
class ChunkedFrames {
  private bytes: Buffer = Buffer.alloc(0);
  private text = '';
  ended = false;

  constructor(private readonly onFrame: (frame: string) => void) {}

  push(chunk: Buffer): void {
    this.bytes = this.bytes.length === 0 ? chunk : Buffer.concat([this.bytes, chunk]);
    for (;;) {
      const lineEnd = this.bytes.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = Number.parseInt(this.bytes.subarray(0, lineEnd).toString('latin1'), 16);
      if (!Number.isSafeInteger(size)) throw new Error('a malformed chunk size');
      if (size === 0) {
        this.ended = true;
        return;
      }
      const dataStart = lineEnd + 2;
      if (this.bytes.length < dataStart + size + 2) return;
      this.text += this.bytes.subarray(dataStart, dataStart + size).toString('utf8');
      this.bytes = this.bytes.subarray(dataStart + size + 2);
      for (let end = this.text.indexOf('\n\n'); end >= 0; end = this.text.indexOf('\n\n')) {
        const frame = this.text.slice(0, end);
        this.text = this.text.slice(end + 2);
        this.onFrame(frame);
      }
    }
  }
}

/** One SSE reader; if the server drops it, it reconnects after its last id (counted as an error). */
async function sseClient(
  ctx: ClientContext,
  index: number,
  token: string,
  start: number,
): Promise<void> {
  let last = start;
  for (let connects = 0; connects < MAX_SSE_CONNECTS_PER_CLIENT && !ctx.stopped(); connects++) {
    let socket: net.Socket;
    try {
      socket = await connect(ctx);
    } catch (error) {
      if (!ctx.stopped()) ctx.fail(`stream: ${(error as Error).message}`);
      await sleep(100);
      continue;
    }
    await new Promise<void>((resolve) => {
      let at = 0;
      let head: Buffer | undefined = Buffer.alloc(0);
      const frames = new ChunkedFrames((frame) => {
        const id = /^id: (\d+)$/m.exec(frame);
        if (id === null) return; // retry: or a keep-alive comment
        if (!/^data: \{/m.test(frame)) ctx.fail('stream: an event without JSON data');
        const c = Number(id[1]);
        if (c <= last) ctx.fail('stream: a cursor out of order');
        ctx.deliveries.record(c, index, at);
        last = c;
      });
      socket.on('data', (chunk: Buffer) => {
        at = performance.now();
        try {
          if (head !== undefined) {
            head = Buffer.concat([head, chunk]);
            const headEnd = head.indexOf(HEADER_END);
            if (headEnd < 0) return;
            const { status, headers } = parseHead(head.subarray(0, headEnd).toString('latin1'));
            if (status !== 200) ctx.fail(`stream: status ${status}`);
            if (headers.get('transfer-encoding') !== 'chunked') {
              throw new Error('a stream that is not chunked');
            }
            chunk = head.subarray(headEnd + HEADER_END.length);
            head = undefined;
          }
          frames.push(chunk);
        } catch (error) {
          ctx.fail(`stream: ${(error as Error).message}`);
          socket.destroy();
        }
      });
      socket.on('close', () => {
        if (!ctx.stopped()) ctx.fail('stream: closed by the server');
        resolve();
      });
      socket.on('error', (error) => {
        if (!ctx.stopped()) ctx.fail(`stream: ${error.message}`);
      });
      socket.write(
        requestHead(ctx, `/api/chat/events/stream/?after=${last}`, {
          Accept: 'text/event-stream',
          Authorization: `Bearer ${token}`,
        }),
      );
    });
    if (!ctx.stopped()) await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh server, N clients of one mode, EVENTS posts one at a time.

interface RunResult {
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

async function run(dialect: Backend, mode: Mode, clients: number): Promise<RunResult> {
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
        dialect === 'floor' ? 'floor' : register(server.url, postAgent, `bench${tag}_${i}`),
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

// ---------------------------------------------------------------------------------------------
// The spec's design on the same schedule: the server picks new messages up on a 1 s timer, each
// client polls on its own 2 s timer; all phases random (seeded).

function specLatencies(schedule: readonly number[], clients: number, seed: number): number[] {
  const random = seededRandom(seed);
  const serverPhase = random() * SPEC_SERVER_POLL_MS;
  const clientPhases = Array.from({ length: clients }, () => random() * SPEC_CLIENT_POLL_MS);
  const nextTick = (t: number, phase: number, period: number) =>
    phase + Math.ceil((t - phase) / period) * period;
  const latencies: number[] = [];
  for (const t of schedule) {
    const pickedUp = nextTick(t, serverPhase, SPEC_SERVER_POLL_MS);
    for (const phase of clientPhases) {
      latencies.push(nextTick(pickedUp, phase, SPEC_CLIENT_POLL_MS) - t);
    }
  }
  return latencies;
}

// ---------------------------------------------------------------------------------------------

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
