// Child processes for tests and benches: `bin/axon.js <args>` (or any Node server) with a clean
// environment, up once it prints the line that carries its URL, stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AXON_BIN = path.join(REPO_ROOT, 'bin', 'axon.js');

/** What `axon start` prints once it listens; group 1 is its URL. */
export const AXON_UP_LINE = /^Axon BBS is up at (http:\/\/127\.0\.0\.1:\d+) /m;

// Each stream keeps its last bytes only, so a chatty child cannot grow this process.
const OUTPUT_LIMIT = 256 * 1024;
const STOP_GRACE_MS = 10_000;

export type Env = Record<string, string | undefined>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Ran extends Exit {
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  /** Added to the cleaned environment (undefined removes a variable). */
  env?: Env;
  /** Node options before the script, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
}

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** stdout then stderr, for error messages. */
  output(): string;
  /** Resolves with the first stdout line matching the pattern; rejects if the process ends first. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves with the exit, whenever it comes. */
  exited: Promise<Exit>;
  /**
   * Sends the signal (SIGTERM by default), then SIGKILL if the process is still there after the
   * grace period; resolves with the exit. Safe to call more than once.
   */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

// A test run or bench that ends without stopping its children must not leave servers behind.
function killLiveOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * The parent's environment without what would point the child at another database, secret,
 * address or log level (every AXON_* variable, DATABASE_URL, HOST, PORT, LOG_LEVEL), then `env`.
 */
export function childEnv(env: Env = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('AXON_') || ['DATABASE_URL', 'HOST', 'PORT', 'LOG_LEVEL'].includes(key))
      continue;
    clean[key] = value;
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete clean[key];
    else clean[key] = value;
  }
  return clean;
}

/** Spawns `node [nodeArgs] bin/axon.js ARGS` in the repository with a clean environment. */
export function spawnAxon(args: string[], options: SpawnOptions = {}) {
  return spawnNode([...(options.nodeArgs ?? []), AXON_BIN, ...args], options.env);
}

function spawnNode(argv: string[], env?: Env): ChildProcessWithoutNullStreams {
  killLiveOnExit();
  const child = spawn(process.execPath, argv, {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('close', () => live.delete(child));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  return child;
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

const keepTail = (text: string) =>
  text.length > OUTPUT_LIMIT ? text.slice(text.length - OUTPUT_LIMIT) : text;

/** Runs `axon ARGS` to completion; stdin gets `input` (or nothing) and is then closed. */
export async function runAxon(args: string[], options: SpawnOptions & { input?: string } = {}) {
  const child = spawnAxon(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: string) => (stdout = keepTail(stdout + chunk)));
  child.stderr.on('data', (chunk: string) => (stderr = keepTail(stderr + chunk)));
  child.stdin.on('error', () => undefined); // the CLI may exit before reading its input
  child.stdin.end(options.input ?? '');
  const exit = await exitOf(child);
  return { ...exit, stdout, stderr } satisfies Ran;
}

export interface StartOptions extends SpawnOptions {
  /** Arguments after bin/axon.js; default ['start']. */
  args?: string[];
}

/**
 * `axon start` on 127.0.0.1 and a port the system picks (PORT=0, LOG_LEVEL=warn, a 2-bit sign-up
 * proof of work, unless `env` says otherwise); resolves once it printed the line with its URL, rejects if it ends first.
 */
export function startAxon(options: StartOptions = {}): Promise<ChildServer> {
  const child = spawnAxon(options.args ?? ['start'], {
    ...options,
    // A low sign-up proof of work keeps tests and benches fast (the rate still adds bits).
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      AXON_REGISTER_POW_BITS: '2',
      ...options.env,
    },
  });
  return serverUp(child, AXON_UP_LINE);
}

/**
 * Any Node server: `node ARGV` in the repository with a clean environment, up once stdout has a
 * line matching `upLine`, whose group 1 is its URL.
 */
export function startNodeServer(argv: string[], upLine: RegExp, env?: Env): Promise<ChildServer> {
  return serverUp(spawnNode(argv, env), upLine);
}

async function serverUp(
  child: ChildProcessWithoutNullStreams,
  upLine: RegExp,
): Promise<ChildServer> {
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: string) => {
    stdout = keepTail(stdout + chunk);
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: string) => (stderr = keepTail(stderr + chunk)));
  const exited = exitOf(child);
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;

  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = stdout.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return false;
        waiters.delete(check);
        resolve(line);
        return true;
      };
      if (check()) return;
      waiters.add(check);
      void exited.then(() => {
        if (waiters.delete(check) && !check()) {
          reject(new Error(`the process ended before printing ${String(pattern)}\n${output()}`));
        }
      });
    });

  let stopping: Promise<Exit> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)));
        await Promise.race([exited, grace]);
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      return exited;
    })();
    return stopping;
  };

  try {
    const line = await waitForLine(upLine);
    const url = upLine.exec(line)?.[1];
    if (url === undefined) throw new Error(`no URL in the line ${JSON.stringify(line)}`);
    return {
      url,
      pid: child.pid!,
      child,
      stdout: () => stdout,
      stderr: () => stderr,
      output,
      waitForLine,
      exited,
      stop,
    };
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
}

/** The pids whose parent is `pid` (Linux /proc): the workers of `axon start --workers`. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (after the parenthesised command name) is the parent pid.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid)
        children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children.sort((a, b) => a - b);
}
