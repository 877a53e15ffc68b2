// The server child of one run: Axon on SQLite or PostgreSQL, or the bare fan-out floor; and a
// process's memory and CPU time from /proc.
import { readFileSync } from 'node:fs';
import { childPids, startNodeServer } from '../../src/test-support/axon-process.js';
import { type Backend, SERVER_ENV } from './options.js';
import { type RunningServer, startAxon, throwawayPostgres } from '../support.js';
export type Server = RunningServer;

/**
 * `node bin/axon.js start` (or the floor server) on a loopback port the system picks, with a fresh
 * data directory and, on PostgreSQL, a throwaway database; resolves once it says it is up.
 */
export async function startServer(dialect: Backend): Promise<Server> {
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

// The floor: what this machine gives the same clients when the server does nothing but the
// fan-out. A bare node:http process with the three routes the clients use and no database, no
// signature, no authentication: a POST writes one event (of the size of Axon's) to every open
// stream and answers every parked long poll, in one loop. Axon cannot beat it on this machine; the
// difference between the two is what Axon's own work costs.
export const FLOOR_SERVER_SOURCE = `
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
