// `axon start --workers N`: one primary process prepares the database (migrations, the instance
// identity) once, then forks N server processes that share the listening port (node:cluster hands
// connections out in turn). Every shared concern already lives in PostgreSQL: sessions, rate limits,
// the replay cache, realtime fan-out (LISTEN/NOTIFY), leases of federation delivery and chunk
// fetches, and the claims of background jobs (services/job-claims.ts). SQLite serves one process.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ensureInstanceIdentity } from './modules/federation/identity.js';
import { loadInstanceKeys } from './secrets.js';

/** At most this many processes: each holds a database pool and its own caches. */
export const MAX_WORKERS = 64;
/** A worker that dies is replaced after a pause that doubles while workers keep dying young. */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 30_000;
/** A worker that lived this long resets the pause. */
const HEALTHY_AFTER_MS = 60_000;

export class WorkersError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkersError';
  }
}

/** Checks a --workers value against the configuration; returns the count. */
export function workerCount(value: number, config: Config): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_WORKERS)
    throw new WorkersError(`--workers must be a whole number from 1 to ${MAX_WORKERS}`);
  if (value > 1 && config.database.dialect !== 'postgres')
    throw new WorkersError(
      '--workers above 1 needs PostgreSQL (set DATABASE_URL=postgres://…): processes share ' +
        'realtime events, sessions and job claims through it, and SQLite serves one process',
    );
  return value;
}

/**
 * The primary's part: prepares the database, forks `count` workers, replaces one that dies (after
 * a pause that grows while they keep dying), and on SIGTERM or SIGINT stops them all. Resolves
 * when every worker has exited after a stop.
 */
export async function runPrimary(config: Config, count: number): Promise<void> {
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database);
    await ensureInstanceIdentity(
      database,
      loadInstanceKeys(config.secret, config.dataDir).identitySealKey,
    );
  } finally {
    await database.close();
  }
  let stopping = false;
  const startedAt = new Map<Worker, number>();
  const fork = () => startedAt.set(cluster.fork(), Date.now());
  for (let i = 0; i < count; i++) fork();
  console.log(`Axon BBS primary: ${count} worker processes`);
  return new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    let pause = RESTART_FIRST_MS;
    let replacing = 0;
    cluster.on('exit', (worker, code, signal) => {
      const started = startedAt.get(worker) ?? 0;
      startedAt.delete(worker);
      if (!stopping) {
        if (Date.now() - started >= HEALTHY_AFTER_MS) pause = RESTART_FIRST_MS;
        console.error(
          `axon: a worker stopped (${signal ?? `exit code ${String(code)}`}); ` +
            `starting another in ${pause} ms`,
        );
        replacing++;
        setTimeout(() => {
          replacing--;
          if (!stopping) fork();
          else if (startedAt.size === 0) resolve();
        }, pause);
        pause = Math.min(pause * 2, RESTART_MAX_MS);
        return;
      }
      if (startedAt.size === 0 && replacing === 0) resolve();
    });
  });
}

export const isWorkerProcess = () => cluster.isWorker;
