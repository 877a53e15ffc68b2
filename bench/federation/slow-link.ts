// A simulated Tor circuit for the federation bench: a TCP proxy on loopback that delays every byte
// by half the round trip in each direction and lets at most `bytesPerSecond` through each way.
// Order is kept and memory is bounded: a direction stops reading once `maxQueuedBytes` wait.
import net from 'node:net';

export interface SlowLinkOptions {
  /** Where connections go, e.g. { host: '127.0.0.1', port: 4001 }. */
  target: { host: string; port: number };
  /** Added to each round trip (half each way). */
  roundTripMs: number;
  /** Per direction, per connection. */
  bytesPerSecond: number;
  /** Per direction, per connection: reading pauses past it. Default 4 MiB. */
  maxQueuedBytes?: number;
}

export interface SlowLink {
  port: number;
  /** Bytes carried each way since it started, for the bench's sanity line. */
  carried(): { up: number; down: number };
  close(): Promise<void>;
}

interface Pending {
  chunk: Buffer;
  at: number;
}

/** One direction of one connection: chunks leave in order, each no sooner than its time. */
class DelayedPipe {
  private readonly queue: Pending[] = [];
  private queued = 0;
  private wireFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly delayMs: number,
    private readonly bytesPerSecond: number,
    private readonly maxQueuedBytes: number,
    private readonly count: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.accept(chunk));
    from.on('end', () => {
      this.ended = true;
      this.flush();
    });
  }

  private accept(chunk: Buffer): void {
    // The wire sends one byte after another at the link's rate; the delay is added on top.
    const now = performance.now();
    const start = Math.max(now, this.wireFreeAt);
    this.wireFreeAt = start + (chunk.length * 1000) / this.bytesPerSecond;
    this.queue.push({ chunk, at: this.wireFreeAt + this.delayMs });
    this.queued += chunk.length;
    if (this.queued > this.maxQueuedBytes) this.from.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      this.queued -= chunk.length;
      this.count(chunk.length);
      if (!this.to.destroyed) this.to.write(chunk);
    }
    if (this.queued <= this.maxQueuedBytes / 2 && this.from.isPaused()) this.from.resume();
    if (this.queue.length === 0 && this.ended) {
      this.to.end();
      return;
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export async function startSlowLink(options: SlowLinkOptions): Promise<SlowLink> {
  const oneWay = options.roundTripMs / 2;
  const maxQueued = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  const totals = { up: 0, down: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(options.target.port, options.target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pipes = [
      new DelayedPipe(
        client,
        upstream,
        oneWay,
        options.bytesPerSecond,
        maxQueued,
        (n) => (totals.up += n),
      ),
      new DelayedPipe(
        upstream,
        client,
        oneWay,
        options.bytesPerSecond,
        maxQueued,
        (n) => (totals.down += n),
      ),
    ];
    const close = () => {
      for (const pipe of pipes) pipe.stop();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('slow link has no port');
  return {
    port: address.port,
    carried: () => ({ ...totals }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
