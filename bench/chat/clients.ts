// The readers: who got which event when, and the long-poll and SSE clients as minimal HTTP/1.1
// clients on raw sockets.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Answer } from './http.js';
import { LONG_POLL_WAIT_S, MAX_POLLS_PER_CLIENT, MAX_SSE_CONNECTS_PER_CLIENT } from './options.js';
export class Deliveries {
  private readonly byCursor = new Map<number, { times: Float64Array; count: number }>();
  private waiter: { cursor: number; resolve: () => void } | undefined;
  duplicates = 0;

  constructor(readonly clients: number) {}

  record(cursor: number, client: number, at: number): void {
    let entry = this.byCursor.get(cursor);
    if (entry === undefined) {
      entry = { times: new Float64Array(this.clients).fill(Number.NaN), count: 0 };
      this.byCursor.set(cursor, entry);
    }
    if (!Number.isNaN(entry.times[client]!)) {
      this.duplicates++;
      return;
    }
    entry.times[client] = at;
    entry.count++;
    if (this.waiter?.cursor === cursor && entry.count === this.clients) this.waiter.resolve();
  }

  /** True once every client got the event; false when the deadline passed first. */
  async everyone(cursor: number, deadlineMs: number): Promise<boolean> {
    if ((this.byCursor.get(cursor)?.count ?? 0) === this.clients) return true;
    let timer: NodeJS.Timeout | undefined;
    const all = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.waiter = { cursor, resolve: () => resolve(true) };
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    this.waiter = undefined;
    return all;
  }

  times(cursor: number): Float64Array {
    return this.byCursor.get(cursor)?.times ?? new Float64Array(this.clients).fill(Number.NaN);
  }
}

export interface ClientContext {
  url: string;
  deliveries: Deliveries;
  stopped: () => boolean;
  /** HTTP failures, bad answers, out-of-order cursors, dropped streams. */
  fail: (what: string) => void;
  /** Open client sockets, destroyed when the run ends. */
  sockets: Set<net.Socket>;
}

// The readers are minimal HTTP/1.1 clients on raw sockets: node:http's client costs ~10–15 µs of
// this process's CPU per answer, and with 1,000 readers in one process that queueing, not the
// server, would set the later readers' times. Each answer is timestamped in the socket's first
// 'data' event that completes it, before any parsing of its body.

export const HEADER_END = Buffer.from('\r\n\r\n');

/** Opens a socket to the server; resolves once connected. */
export function connect(ctx: ClientContext): Promise<net.Socket> {
  const { hostname, port } = new URL(ctx.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    ctx.sockets.add(socket);
    socket.once('close', () => ctx.sockets.delete(socket));
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function requestHead(
  ctx: ClientContext,
  target: string,
  headers: Record<string, string>,
): string {
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${new URL(ctx.url).host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status and headers of a response head (the bytes before the blank line). */
export function parseHead(head: string): { status: number; headers: Map<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/**
 * A kept-alive connection sending one GET at a time and reading answers with a Content-Length
 * (what the long-poll route sends); rejects when the server closes it.
 */
export class LongPollConnection {
  private pending: Buffer = Buffer.alloc(0);
  private waiting:
    { resolve: (answer: Answer) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.waiting?.reject(new Error('the server closed the connection')));
    socket.on('error', (error) => this.waiting?.reject(error));
  }

  static async open(ctx: ClientContext): Promise<LongPollConnection> {
    return new LongPollConnection(await connect(ctx));
  }

  get(head: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(head);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const at = performance.now();
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const headEnd = this.pending.indexOf(HEADER_END);
    if (headEnd < 0) return;
    const { status, headers } = parseHead(this.pending.subarray(0, headEnd).toString('latin1'));
    const length = Number(headers.get('content-length'));
    if (!Number.isSafeInteger(length)) {
      this.waiting?.reject(new Error('an answer without Content-Length'));
      this.socket.destroy();
      return;
    }
    const bodyStart = headEnd + HEADER_END.length;
    if (this.pending.length < bodyStart + length) return;
    const body = this.pending.subarray(bodyStart, bodyStart + length).toString('utf8');
    this.pending = this.pending.subarray(bodyStart + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ status, body, at });
  }
}

/** One long-poll reader: wait=30 polls back to back, each from the last next_cursor. */
export async function longPollClient(
  ctx: ClientContext,
  index: number,
  token: string,
  start: number,
): Promise<void> {
  let cursor = start;
  let connection: LongPollConnection | undefined;
  for (let polls = 0; polls < MAX_POLLS_PER_CLIENT && !ctx.stopped(); polls++) {
    let answer: Answer;
    try {
      connection ??= await LongPollConnection.open(ctx);
      answer = await connection.get(
        requestHead(
          ctx,
          `/api/chat/read_events/?after=${cursor}&wait=${LONG_POLL_WAIT_S}&limit=100`,
          {
            Authorization: `Bearer ${token}`,
          },
        ),
      );
    } catch (error) {
      connection?.close();
      connection = undefined;
      if (ctx.stopped()) return;
      ctx.fail(`poll: ${(error as Error).message}`);
      await sleep(100);
      continue;
    }
    // The arrival time is taken; parsing and the next poll wait until the answers that arrived
    // together with this one got theirs, so this client's own work does not delay their clocks.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (answer.status !== 200) {
      ctx.fail(`poll: status ${answer.status}`);
      await sleep(100);
      continue;
    }
    const batch = JSON.parse(answer.body) as {
      data: { events: Array<{ cursor: string }>; next_cursor: string };
    };
    for (const event of batch.data.events) {
      const c = Number(event.cursor);
      if (c <= cursor) ctx.fail('poll: a cursor out of order');
      ctx.deliveries.record(c, index, answer.at);
      cursor = c;
    }
    cursor = Math.max(cursor, Number(batch.data.next_cursor));
  }
  connection?.close();
}

/**
 * Decodes a chunked body as it arrives and hands over each complete SSE frame (the text before a
 * blank line); throws on a malformed chunk.
 */
export class ChunkedFrames {
  private bytes: Buffer = Buffer.alloc(0);
  private text = '';
  ended = false;

  constructor(private readonly onFrame: (frame: string) => void) {}

  push(chunk: Buffer): void {
    this.bytes = this.bytes.length === 0 ? chunk : Buffer.concat([this.bytes, chunk]);
    for (;;) {
      const lineEnd = this.bytes.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = Number.parseInt(this.bytes.subarray(0, lineEnd).toString('latin1'), 16);
      if (!Number.isSafeInteger(size)) throw new Error('a malformed chunk size');
      if (size === 0) {
        this.ended = true;
        return;
      }
      const dataStart = lineEnd + 2;
      if (this.bytes.length < dataStart + size + 2) return;
      this.text += this.bytes.subarray(dataStart, dataStart + size).toString('utf8');
      this.bytes = this.bytes.subarray(dataStart + size + 2);
      for (let end = this.text.indexOf('\n\n'); end >= 0; end = this.text.indexOf('\n\n')) {
        const frame = this.text.slice(0, end);
        this.text = this.text.slice(end + 2);
        this.onFrame(frame);
      }
    }
  }
}

/** One SSE reader; if the server drops it, it reconnects after its last id (counted as an error). */
export async function sseClient(
  ctx: ClientContext,
  index: number,
  token: string,
  start: number,
): Promise<void> {
  let last = start;
  for (let connects = 0; connects < MAX_SSE_CONNECTS_PER_CLIENT && !ctx.stopped(); connects++) {
    let socket: net.Socket;
    try {
      socket = await connect(ctx);
    } catch (error) {
      if (!ctx.stopped()) ctx.fail(`stream: ${(error as Error).message}`);
      await sleep(100);
      continue;
    }
    await new Promise<void>((resolve) => {
      let at = 0;
      let head: Buffer | undefined = Buffer.alloc(0);
      const frames = new ChunkedFrames((frame) => {
        const id = /^id: (\d+)$/m.exec(frame);
        if (id === null) return; // retry: or a keep-alive comment
        if (!/^data: \{/m.test(frame)) ctx.fail('stream: an event without JSON data');
        const c = Number(id[1]);
        if (c <= last) ctx.fail('stream: a cursor out of order');
        ctx.deliveries.record(c, index, at);
        last = c;
      });
      socket.on('data', (chunk: Buffer) => {
        at = performance.now();
        try {
          if (head !== undefined) {
            head = Buffer.concat([head, chunk]);
            const headEnd = head.indexOf(HEADER_END);
            if (headEnd < 0) return;
            const { status, headers } = parseHead(head.subarray(0, headEnd).toString('latin1'));
            if (status !== 200) ctx.fail(`stream: status ${status}`);
            if (headers.get('transfer-encoding') !== 'chunked') {
              throw new Error('a stream that is not chunked');
            }
            chunk = head.subarray(headEnd + HEADER_END.length);
            head = undefined;
          }
          frames.push(chunk);
        } catch (error) {
          ctx.fail(`stream: ${(error as Error).message}`);
          socket.destroy();
        }
      });
      socket.on('close', () => {
        if (!ctx.stopped()) ctx.fail('stream: closed by the server');
        resolve();
      });
      socket.on('error', (error) => {
        if (!ctx.stopped()) ctx.fail(`stream: ${error.message}`);
      });
      socket.write(
        requestHead(ctx, `/api/chat/events/stream/?after=${last}`, {
          Accept: 'text/event-stream',
          Authorization: `Bearer ${token}`,
        }),
      );
    });
    if (!ctx.stopped()) await sleep(100);
  }
}
