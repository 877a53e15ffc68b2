// The server child of one run: Axon on SQLite or PostgreSQL, or the bare fan-out floor; and a
// process's memory and CPU time from /proc.
import { readFileSync } from 'node:fs';
import { childPids, startNodeServer } from '../../src/test-support/axon-process.js';
import { type Backend, SERVER_ENV } from './options.js';
import { type RunningServer, startAxon, throwawayPostgres } from '../support.js';
export type Server = RunningServer;

/**
 * `node bin/axon.js start` (or the floor server, bench/chat/floor-server.ts) on a loopback port the system picks, with a fresh
 * data directory and, on PostgreSQL, a throwaway database; resolves once it says it is up.
 */
export async function startServer(dialect: Backend): Promise<Server> {
  if (dialect === 'floor' || dialect === 'floor-2') {
    const floor = await startNodeServer(
      ['--import', 'tsx', 'bench/chat/floor-server.ts'],
      /^Axon BBS is up at (http:\/\/127\.0\.0\.1:\d+)$/,
      { AXON_BENCH_WORKERS: dialect === 'floor' ? '1' : '2' },
    );
    return {
      url: floor.url,
      pid: floor.pid,
      output: floor.output,
      stop: async () => void (await floor.stop()),
    };
  }
  const database = dialect === 'sqlite' ? undefined : await throwawayPostgres('axon_bench_chat');
  const profileDir = process.env.AXON_BENCH_CPU_PROF;
  try {
    const server = await startAxon(
      { ...SERVER_ENV, ...(database === undefined ? {} : { DATABASE_URL: database.url }) },
      {
        nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir],
        args: dialect === 'postgres-2' ? ['start', '--workers', '2'] : ['start'],
      },
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

/** The process and its child processes (the workers of `axon start --workers`), looked up at most once a second. */
const trees = new Map<number, { at: number; pids: number[] }>();
function processTree(pid: number): number[] {
  const known = trees.get(pid);
  if (known !== undefined && performance.now() - known.at < 1000) return known.pids;
  const tree = [pid, ...childPids(pid)];
  trees.set(pid, { at: performance.now(), pids: tree });
  return tree;
}

/** Resident memory of a process and its children in bytes (VmRSS), or NaN once it is gone. */
export function rssBytes(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + oneRssBytes(p), 0);
}

function oneRssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of a process and its children so far. */
export function cpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + oneCpuSeconds(p), 0);
}

/** User + system CPU seconds of one process so far (clock ticks of 1/100 s). */
function oneCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
