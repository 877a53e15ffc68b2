// Long-running background services (session cleanup, retention, presence, the PostgreSQL realtime
// bridge, federation delivery, remote content fetches), each with a status /api/health reports.
// Jobs that must run once across processes are sharedPeriodicService; the others run in every
// process.
import type { JobClaims } from './job-claims.js';

export type ServiceState = 'stopped' | 'running' | 'failing';

export interface BackgroundService {
  name: string;
  start(): void;
  stop(): Promise<void>;
  state(): ServiceState;
}

export class ServiceRegistry {
  private readonly services: BackgroundService[] = [];

  add(service: BackgroundService): void {
    this.services.push(service);
  }

  startAll(): void {
    for (const s of this.services) s.start();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
  }

  status(): Record<string, ServiceState> {
    return Object.fromEntries(this.services.map((s) => [s.name, s.state()]));
  }
}

/** A service that runs `task` every `intervalMs`, never overlapping itself. */
export function periodicService(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): BackgroundService {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let state: ServiceState = 'stopped';
  const tick = () => {
    running = task()
      .then(
        () => {
          if (state !== 'stopped') state = 'running';
        },
        (error: unknown) => {
          if (state !== 'stopped') state = 'failing';
          onError(error);
        },
      )
      .finally(() => {
        running = undefined;
      });
  };
  return {
    name,
    start() {
      if (timer !== undefined) return;
      state = 'running';
      tick();
      timer = setInterval(() => {
        if (running === undefined) tick();
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      state = 'stopped';
      clearInterval(timer);
      timer = undefined;
      await running;
    },
    state: () => state,
  };
}

/** How often a process asks whether a shared job is due. */
const SHARED_CHECK_MS = 30_000;

/**
 * A job that runs once per `intervalMs` across every process of the instance: each process asks at
 * most every 30 s, and only the one that claims it (JobClaims) runs it. Runs and failures are
 * recorded in the database for /api/health and /metrics.
 */
export function sharedPeriodicService(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
  claims: JobClaims,
): BackgroundService {
  return periodicService(
    name,
    Math.min(intervalMs, SHARED_CHECK_MS),
    async () => {
      if (!(await claims.claim(name, intervalMs))) return;
      try {
        await task();
      } catch (error) {
        await claims.finished(name, error).catch(() => undefined);
        throw error;
      }
      await claims.finished(name);
    },
    onError,
  );
}
