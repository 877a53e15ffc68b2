// Shared bench plumbing: the server child process, a small HTTP client, percentiles, tables.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { adminQuery, PG_ADMIN_URL } from '../src/test-support/databases.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface HttpAnswer {
  status: number;
  body: string;
  /** From sending the request to the last byte of the answer. */
  ms: number;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST';
  json?: unknown;
  agent?: http.Agent;
  /** Extra request headers, e.g. authorization. */
  headers?: http.OutgoingHttpHeaders;
  timeoutMs: number;
}

/** One request on node:http: fewer layers than fetch, so the client adds little to what is measured. */
export function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json));
  const headers: http.OutgoingHttpHeaders = {
    ...req.headers,
    ...(body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': body.length }),
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(
      req.url,
      { method: req.method ?? 'GET', headers, agent: req.agent, timeout: req.timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`${req.url}: no answer in ${req.timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** True when the body is the API envelope with success: true. */
export function isSuccessEnvelope(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      'success' in parsed &&
      parsed.success === true
    );
  } catch {
    return false;
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port === 0 ? reject(new Error('no free port')) : resolve(port)));
    });
  });
}

export interface RunningServer {
  url: string;
  /** The server's process id (for its memory, from /proc). */
  pid: number;
  /** The last few KB the server wrote, for error messages. */
  output(): string;
  /** Stops the server and deletes its data directory; safe to call more than once. */
  stop(): Promise<void>;
}

const OUTPUT_TAIL = 8192;

// Inherited settings that would point the server at someone else's database, keys or proxy.
const STRIPPED_ENV = [
  'DATABASE_URL',
  'AXON_SECRET',
  'AXON_PUBLIC_URL',
  'AXON_PROXY',
  'AXON_METRICS_TOKEN',
];

export interface StartOptions {
  /**
   * A data directory the caller owns: used as it is (a server started again on it finds its
   * database and secrets) and left in place by stop(). Default: a fresh one, deleted by stop().
   */
  dataDir?: string;
}

/**
 * Starts `node bin/axon.js start` on a free loopback port with a fresh SQLite data directory (or
 * options.dataDir), and resolves once GET /api/health answers 200. The server is killed if this
 * process exits first.
 */
export async function startAxon(
  env: Record<string, string>,
  startupTimeoutMs = 30_000,
  options: StartOptions = {},
): Promise<RunningServer> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'axon-bench-')));
  const port = await freeLoopbackPort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of STRIPPED_ENV) delete childEnv[key];
  Object.assign(childEnv, env, {
    HOST: '127.0.0.1',
    PORT: String(port),
    AXON_DATA_DIR: dataDir,
  });

  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'axon.js'), 'start'], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  // Last resort when the bench dies without reaching stop(): signals skip 'exit' handlers, so they
  // are turned into an exit first.
  const onExit = () => {
    if (running()) child.kill('SIGKILL');
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (running()) {
        child.kill('SIGTERM');
        const graceful = await Promise.race([exited.then(() => true), sleep(5000, false)]);
        if (!graceful && running()) child.kill('SIGKILL');
        await exited;
      }
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startupTimeoutMs;
  try {
    for (;;) {
      if (!running()) throw new Error(`the server exited during start-up:\n${tail}`);
      if (Date.now() > deadline) {
        throw new Error(
          `the server did not answer /api/health in ${startupTimeoutMs} ms:\n${tail}`,
        );
      }
      const answer = await httpRequest({ url: `${url}/api/health`, timeoutMs: 1000 }).catch(
        () => undefined,
      );
      if (answer?.status === 200) break;
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid!, output: () => tail, stop };
}

export interface RunningBare {
  url: string;
  stop(): Promise<void>;
}

// The reference app: Fastify with defaults and one route answering a small constant, in its own
// process as the Axon server is, so both compete for the cores with the load generator alike.
const BARE_FASTIFY = `
import Fastify from 'fastify';
const answer = { success: true, data: { ok: true }, error: null, timestamp: '2000-01-01T00:00:00.000Z' };
const app = Fastify({ logger: false });
app.get('/', async () => answer);
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write('listening ' + app.server.address().port + '\\n');
`;

/** Starts a bare Fastify app (GET / answers a constant JSON) on a loopback port, in a child. */
export async function startBareFastify(startupTimeoutMs = 15_000): Promise<RunningBare> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_FASTIFY], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const onExit = () => {
    if (running()) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      const graceful = await Promise.race([exited.then(() => true), sleep(5000, false)]);
      if (!graceful && running()) child.kill('SIGKILL');
      await exited;
    }
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bare Fastify did not start in ${startupTimeoutMs} ms:\n${output}`)),
        startupTimeoutMs,
      );
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
        const match = /listening (\d+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`bare Fastify exited during start-up:\n${output}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Nearest-rank percentile (p in 0–100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function ratio(value: number, reference: number): string {
  return Number.isFinite(value) && Number.isFinite(reference) && reference !== 0
    ? (value / reference).toFixed(2)
    : '—';
}

/** A markdown table with padded columns, so it reads well in a terminal too. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A process's resident memory in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

export const say = (message: string) => console.log(`· ${message}`);

export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

let exitCleanups: Set<() => void> | undefined;

/**
 * Cleanups run on any exit, SIGINT and SIGTERM included, newest first: add what a run makes (temp
 * dirs, databases, child processes), delete it once undone.
 */
export function cleanUpOnExit(): Set<() => void> {
  if (exitCleanups !== undefined) return exitCleanups;
  const cleanups = new Set<() => void>();
  exitCleanups = cleanups;
  process.once('exit', () => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        cleanup();
      } catch {
        // Best effort: the process is leaving.
      }
    }
  });
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return cleanups;
}

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same text every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A throwaway PostgreSQL database named after `prefix`, dropped by `drop` (and on a hard exit). */
export async function throwawayPostgres(
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const cleanups = cleanUpOnExit();
  const name = `${prefix}_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  // On a hard exit there is no event loop left for pg: a short-lived child drops the database.
  const dropSync = () => {
    spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import pg from 'pg';
         const c = new pg.Client({ connectionString: ${JSON.stringify(PG_ADMIN_URL)} });
         await c.connect();
         await c.query('DROP DATABASE IF EXISTS ${name} WITH (FORCE)');
         await c.end();`,
      ],
      { cwd: REPO_ROOT, stdio: 'ignore', timeout: 20_000 },
    );
  };
  cleanups.add(dropSync);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      cleanups.delete(dropSync);
    },
  };
}
