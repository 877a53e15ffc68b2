// Server-Sent Events: streams a cursor-ordered feed, resuming after Last-Event-ID, with heartbeats.
// A client that cannot keep up (its unsent buffer is still past a bound when there is more to send)
// is dropped; it reconnects and resumes from its last event id, so nothing is lost and nobody else
// waits for it. An event larger than the bound alone is sent whole, then the stream waits to drain.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Channel } from './channels.js';
import type { Realtime } from './realtime.js';

export interface EventFeed<E> {
  channel: Channel;
  /** Resume after this cursor; undefined starts with the latest events. */
  start: number | undefined;
  fetch(after: number | undefined): Promise<{ events: readonly E[]; nextCursor: number }>;
  /**
   * The events after `after` when the payload that woke the stream is all of them (an event handed
   * over by its commit in this process); undefined to fetch them instead.
   */
  handedOver?(payload: unknown, after: number): readonly E[] | undefined;
  cursorOf(event: E): number;
  /** The event's data; an object returned for one event must not be returned for another. */
  toJson(event: E): unknown;
  /** Called on every heartbeat (presence). */
  onHeartbeat?(): Promise<void>;
  /** Ends the stream (server shutdown); the client reconnects and resumes after its last id. */
  stop?: AbortSignal;
}

export interface StreamOptions {
  heartbeatMs: number;
  /** Unsent bytes a client may fall behind by before it is dropped. */
  maxBufferedBytes: number;
  /** Events per read; a full batch is followed at once by the next. */
  batch: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  heartbeatMs: 15_000,
  maxBufferedBytes: 256 * 1024,
  batch: 100,
};

// The frame of one toJson() result, for every stream it goes to (feeds may hand many streams the
// same object); weakly held, so frames go when their events do.
const frames = new WeakMap<object, Buffer>();

function frameOf(id: number, json: unknown): Buffer {
  const cached = typeof json === 'object' && json !== null ? frames.get(json) : undefined;
  if (cached !== undefined) return cached;
  const frame = Buffer.from(`id: ${id}\nevent: message\ndata: ${JSON.stringify(json)}\n\n`);
  if (typeof json === 'object' && json !== null) frames.set(json, frame);
  return frame;
}

export async function streamEvents<E>(
  request: FastifyRequest,
  reply: FastifyReply,
  realtime: Pick<Realtime, 'subscribe'>,
  feed: EventFeed<E>,
  options: StreamOptions = DEFAULT_STREAM_OPTIONS,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
    'X-Request-Id': request.id,
  });
  // A HEAD asks only for the headers: a stream that never ends would keep it waiting for ever.
  if (request.method === 'HEAD') {
    raw.end();
    return;
  }
  raw.write('retry: 3000\n\n');

  let closed = false;
  let wake: () => void = () => undefined;
  const onClose = () => {
    closed = true;
    wake();
  };
  raw.on('close', onClose);
  let stopped = false;
  const onStop = () => {
    stopped = true;
    onClose();
  };
  if (feed.stop?.aborted === true) onStop();
  feed.stop?.addEventListener('abort', onStop, { once: true });

  let cursor = feed.start;
  /** The database holds events for this stream that it has not written (or may: read to know). */
  let behind = true;
  /** Waiting with nothing to read or drain: handed-over events are written on the spot. */
  let parked = false;
  const dropSlowClient = () => {
    request.log.info({ buffered: raw.writableLength }, 'dropping a slow event-stream client');
    raw.destroy();
  };
  /** Writes events in order; true when the client's unsent buffer passed the bound (stop). */
  const send = (events: readonly E[]): boolean => {
    let full = false;
    for (const event of events) {
      cursor = feed.cursorOf(event);
      raw.write(frameOf(cursor, feed.toJson(event)));
      full = raw.writableLength > options.maxBufferedBytes;
      if (full) break;
    }
    // Node corks a response's socket on write and uncorks it on the next tick, after every other
    // stream that the same event woke has had its turn: the first would wait for the thousandth.
    if (events.length > 0) raw.socket?.uncork();
    return full;
  };
  // One subscription for the stream's life. While parked, an event handed over by its commit in
  // this process is written right here, inside the publish: a thousand streams get it in one
  // synchronous loop, and the first does not wait for the others' turns. Anything else (another
  // process's event, a gap, a reader who ignores the author) sends the loop to the database.
  const unsubscribe = realtime.subscribe(feed.channel, (seq, payload) => {
    if (closed || raw.destroyed || (cursor !== undefined && seq <= cursor)) return;
    // Before the first read there is no cursor to hand over after: read again.
    if (cursor === undefined) {
      behind = true;
      return;
    }
    // More to send while the client has still not taken what it was sent: it cannot keep up.
    if (raw.writableLength > options.maxBufferedBytes) {
      dropSlowClient();
      return;
    }
    const handed = parked ? feed.handedOver?.(payload, cursor) : undefined;
    if (handed !== undefined) {
      // This runs inside the poster's request, after its commit: a failure here ends this stream
      // (the client resumes by cursor), never the post.
      try {
        // Past the bound: whatever comes next goes through the loop, which drops the client
        // unless it has drained by then.
        if (send(handed)) parked = false;
      } catch (error) {
        request.log.error({ err: error }, 'event stream failed');
        raw.destroy();
      }
      return;
    }
    behind = true;
    wake();
  });
  try {
    while (!closed) {
      if (behind) {
        behind = false;
        const { events, nextCursor } = await feed.fetch(cursor);
        if (closed) break;
        // (Measured before writing, so one event or burst larger than the bound is no reason.)
        if (events.length > 0 && raw.writableLength > options.maxBufferedBytes) {
          dropSlowClient();
          return;
        }
        // Past the bound, stop writing until the client drains: the rest comes next round.
        if (send(events)) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            raw.once('drain', resolve);
          });
          raw.off('drain', wake);
          behind = true;
          continue;
        }
        cursor = nextCursor;
        // A full batch: the next follows at once.
        if (events.length >= options.batch) behind = true;
        continue;
      }
      let heartbeat: NodeJS.Timeout | undefined;
      parked = true;
      const woken = await new Promise<'heartbeat' | 'wake'>((resolve) => {
        heartbeat = setTimeout(() => resolve('heartbeat'), options.heartbeatMs);
        wake = () => resolve('wake');
      });
      parked = false;
      clearTimeout(heartbeat);
      if (woken === 'heartbeat' && !closed) {
        raw.write(': keep-alive\n\n');
        await feed.onHeartbeat?.();
      }
    }
  } catch (error) {
    request.log.error({ err: error }, 'event stream failed');
    raw.destroy();
  } finally {
    unsubscribe();
    raw.off('close', onClose);
    feed.stop?.removeEventListener('abort', onStop);
    if (stopped && !raw.destroyed) raw.end();
  }
}
