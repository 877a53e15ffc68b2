// A background service that works when woken (and every `pollMs` besides): runs never overlap, and
// a wake-up during a run asks for one more run after it. Its state is `failing` after a run threw.
import type { BackgroundService, ServiceState } from './registry.js';

export class WokenService implements BackgroundService {
  private status: ServiceState = 'stopped';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopRequested = false;

  constructor(
    readonly name: string,
    private readonly pollMs: number,
    /** One run; it should end early once `stopping` is true. */
    private readonly run: () => Promise<void>,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Set by stop(): a run in progress should end after its current piece of work. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  start(): void {
    if (this.status !== 'stopped') return;
    this.status = 'running';
    this.stopRequested = false;
    this.wake();
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.status = 'stopped';
    this.stopRequested = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  state(): ServiceState {
    return this.status;
  }

  /** Runs now, or once more after the current run; nothing while stopped. */
  wake(): void {
    if (this.status === 'stopped') return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .then(
        () => {
          if (this.status !== 'stopped') this.status = 'running';
        },
        (error: unknown) => {
          if (this.status !== 'stopped') this.status = 'failing';
          this.report(error);
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }
}
