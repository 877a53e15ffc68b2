// Real `axon start` processes for the checks that need sockets, an outside view of memory or
// SIGKILL: each on a free loopback port with its own data directory, driven through bin/axon.js.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanUpOnExit, residentBytes } from '../../bench/support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'axon.js');

/** Every account of a prepared data directory has this password. */
export const PASSWORD = 'hardening suite password';

/** The accounts of a prepared data directory: one sysop and two members. */
export const ACCOUNTS = { sysop: 'sysop', alice: 'alice', bob: 'bob' } as const;

export interface AxonServer {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  env: Record<string, string>;
  /** Everything the process printed so far. */
  output(): string;
  /** Resident set size, read from /proc/<pid>/status as the kernel sees it. */
  rssBytes(): number;
  /** Sends the signal (SIGTERM by default) and resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** The environment of an `axon` child: the caller's, minus any Axon setting, plus `extra`. */
export function axonEnv(
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('AXON_') || ['DATABASE_URL', 'HOST', 'PORT', 'LOG_LEVEL'].includes(key))
      continue;
    env[key] = value;
  }
  return {
    ...env,
    AXON_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    // The checks log in and register more often than a person would; the limits themselves are
    // not what these rows measure.
    AXON_LOGIN_RATE_LIMIT: '100000',
    AXON_REGISTER_RATE_LIMIT: '100000',
    ...extra,
  };
}

/** Runs one `axon` command to its end. */
export function runAxon(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function createAccount(env: Record<string, string>, username: string, flags: string[]) {
  const result = await runAxon(
    ['user', 'create', username, '--password-stdin', ...flags],
    env,
    PASSWORD,
  );
  if (result.code !== 0)
    throw new Error(`axon user create ${username} failed (${result.code}): ${result.stderr}`);
}

/** Creates ACCOUNTS in the database `env` points at (the first command migrates it). */
async function createAccounts(env: Record<string, string>): Promise<void> {
  await createAccount(env, ACCOUNTS.sysop, ['--sysop']);
  await Promise.all([createAccount(env, ACCOUNTS.alice, []), createAccount(env, ACCOUNTS.bob, [])]);
}

let template: Promise<string> | undefined;

/** A data directory made once per run (database, secret, ACCOUNTS), copied for each check. */
function templateDataDir(): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'axon-hardening-template-'));
    await createAccounts(axonEnv(dir));
    cleanUpOnExit().add(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return template;
}

/**
 * A fresh data directory whose database (`databaseUrl`, or SQLite inside it) holds ACCOUNTS; pass
 * the same DATABASE_URL to startAxon. Remove it with removeDataDir.
 */
export async function preparedDataDir(label: string, databaseUrl?: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), `axon-hardening-${label}-`));
  if (databaseUrl !== undefined) {
    await createAccounts(axonEnv(dir, { DATABASE_URL: databaseUrl }));
    return dir;
  }
  cpSync(await templateDataDir(), dir, { recursive: true });
  return dir;
}
export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** `axon start` on a free port; resolves once it prints its URL, rejects if it ends before. */
export async function startAxon(
  dataDir: string,
  extra: Record<string, string> = {},
): Promise<AxonServer> {
  const env = axonEnv(dataDir, extra);
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'start'], {
    cwd: ROOT,
    env,
  });
  child.stdin.end();
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A run interrupted (Ctrl-C, a timeout's SIGTERM) leaves no server behind.
  const stopOnExit = () => child.kill('SIGKILL');
  cleanUpOnExit().add(stopOnExit);
  void exited.then(() => cleanUpOnExit().delete(stopOnExit));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const match = /Axon BBS is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match !== null) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error(`axon start ended before it was up:\n${output}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    dataDir,
    env,
    output: () => output,
    rssBytes: () => residentBytes(child.pid!),
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface ApiAnswer<T> {
  status: number;
  /** The envelope's data (null on errors). */
  data: T;
  /** The envelope's error code, if any. */
  code: string | undefined;
  /** Size of the response body in bytes. */
  bytes: number;
}

/** One JSON API request; never throws on an HTTP error status (network errors do throw). */
export async function api<T = unknown>(
  base: string,
  method: string,
  route: string,
  init: { token?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${base}${route}`, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const raw = Buffer.from(await response.arrayBuffer());
  let envelope: { data?: T; error?: { code?: string } | null } = {};
  try {
    envelope = JSON.parse(raw.toString('utf8')) as typeof envelope;
  } catch {
    // Not an envelope (a blob, an HTML page): the status says enough.
  }
  return {
    status: response.status,
    data: envelope.data as T,
    code: envelope.error?.code ?? undefined,
    bytes: raw.length,
  };
}

/** Logs in over HTTP and returns the bearer token. */
export async function login(base: string, username: string): Promise<string> {
  const answer = await api<{ token: string }>(base, 'POST', '/api/auth/login/', {
    body: { username, password: PASSWORD },
  });
  if (answer.status !== 200) throw new Error(`login ${username}: ${answer.status} ${answer.code}`);
  return answer.data.token;
}

/** Creates a board as the sysop and returns its id. */
export async function createBoard(
  base: string,
  sysopToken: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const answer = await api<{ id: string }>(base, 'POST', '/api/boards/', {
    token: sysopToken,
    body: fields,
  });
  if (answer.status !== 201) throw new Error(`create board: ${answer.status} ${answer.code}`);
  return answer.data.id;
}

/** Runs `work` over `items` with at most `width` at a time, in order of start. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return results;
}

export const MIB = 1024 * 1024;

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}
