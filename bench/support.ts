// Shared bench plumbing: the server child process, a small HTTP client, percentiles, tables.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  REPO_ROOT,
  startAxon as startAxonProcess,
  startNodeServer,
  type ChildServer,
} from '../src/test-support/axon-process.js';
import { adminQuery, PG_ADMIN_URL } from '../src/test-support/databases.js';

export { REPO_ROOT };

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

export interface RunningServer {
  url: string;
  /** The server's process id (for its memory, from /proc). */
  pid: number;
  /** What the server wrote (the last bytes of each stream), for error messages. */
  output(): string;
  /** Stops the server and deletes the data directory it owns; safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * A data directory the caller owns: used as it is (a server started again on it finds its
   * database and secrets) and left in place by stop(). Default: a fresh one, deleted by stop().
   */
  dataDir?: string;
  /** Node options before the script, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  /** Arguments after bin/axon.js; default ['start']. */
  args?: string[];
}

/**
 * Starts `node bin/axon.js start` on a loopback port the system picks, with a fresh SQLite data
 * directory (or options.dataDir), and resolves once it says it is up. The server is killed and
 * its directory removed if this process exits first, on SIGINT and SIGTERM too.
 */
export async function startAxon(
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<RunningServer> {
  const cleanups = cleanUpOnExit();
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'axon-bench-')));
  const removeDir = () => {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.add(removeDir);
  let server: ChildServer;
  try {
    server = await startAxonProcess({
      env: { ...env, AXON_DATA_DIR: dataDir },
      nodeArgs: options.nodeArgs,
      args: options.args,
    });
  } catch (error) {
    removeDir();
    cleanups.delete(removeDir);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await server.stop();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      cleanups.delete(removeDir);
    })();
    return stopping;
  };
  return { url: server.url, pid: server.pid, output: server.output, stop };
}

export interface RunningBare {
  url: string;
  stop(): Promise<void>;
}

export interface BareOptions {
  /** Processes on the one port (node:cluster); 1 by default. */
  workers?: number;
  /** A file whose JSON GET / answers instead of a small constant. */
  bodyFile?: string;
}

/** Starts bench/bare-fastify.ts (GET / answers a constant JSON) on a loopback port, in a child. */
export async function startBareFastify(options: BareOptions = {}): Promise<RunningBare> {
  cleanUpOnExit();
  const server = await startNodeServer(
    ['--import', 'tsx', 'bench/bare-fastify.ts'],
    /^listening at (http:\/\/127\.0\.0\.1:\d+)$/,
    {
      AXON_BENCH_WORKERS: String(options.workers ?? 1),
      ...(options.bodyFile === undefined ? {} : { AXON_BENCH_BODY_FILE: options.bodyFile }),
    },
  );
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
    },
  };
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
