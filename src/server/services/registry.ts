// Long-running background services (session cleanup, retention, presence, the PostgreSQL realtime
// bridge, federation delivery, remote content fetches), each with a status /api/health reports.
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
