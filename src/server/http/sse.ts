// Server-Sent Events: streams a cursor-ordered feed, resuming after Last-Event-ID, with heartbeats.
// A client that cannot keep up (its unsent buffer is still past a bound when there is more to send)
// is dropped; it reconnects and resumes from its last event id, so nothing is lost and nobody else
// waits for it. An event larger than the bound alone is sent whole, then the stream waits to drain.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventHub } from '../services/event-hub.js';

export interface EventFeed<E> {
  channel: string;
  /** Resume after this cursor; undefined starts with the latest events. */
  start: number | undefined;
  fetch(after: number | undefined): Promise<{ events: E[]; nextCursor: number }>;
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
  hub: EventHub,
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
  /** Events handed over by the wake-up, written next instead of fetched. */
  let handed: readonly E[] | undefined;
  try {
    while (!closed) {
      // Subscribed before the fetch, so an event committed meanwhile still wakes the stream. (The
      // handed-over events come with no await between their wake-up and this subscription.)
      const next = cursor === undefined ? undefined : hub.waitBeyond(feed.channel, cursor);
      const { events, nextCursor } =
        handed === undefined
          ? await feed.fetch(cursor)
          : { events: handed, nextCursor: feed.cursorOf(handed.at(-1)!) };
      handed = undefined;
      // More to send while the client has still not taken what it was sent: it cannot keep up.
      // (Measured before writing, so one event or burst larger than the bound is no reason.)
      if (events.length > 0 && raw.writableLength > options.maxBufferedBytes) {
        request.log.info({ buffered: raw.writableLength }, 'dropping a slow event-stream client');
        next?.cancel();
        raw.destroy();
        return;
      }
      // Past the bound, stop writing until the client drains: the rest comes next round.
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
      if (!full) cursor = nextCursor;
      // A full batch: the next follows at once. No waiter yet (no start cursor): take one now.
      if (!full && (events.length >= options.batch || next === undefined)) {
        next?.cancel();
        continue;
      }
      if (closed) {
        next?.cancel();
        break;
      }
      let heartbeat: NodeJS.Timeout | undefined;
      let onDrain: (() => void) | undefined;
      const woken = await Promise.race([
        ...(next === undefined ? [] : [next.promise.then((payload) => ({ payload }))]),
        new Promise<'heartbeat' | 'other'>((resolve) => {
          heartbeat = setTimeout(() => resolve('heartbeat'), options.heartbeatMs);
          wake = () => resolve('other');
          if (full) {
            onDrain = () => resolve('other');
            raw.once('drain', onDrain);
          }
        }),
      ]);
      clearTimeout(heartbeat);
      if (onDrain !== undefined) raw.off('drain', onDrain);
      next?.cancel();
      if (typeof woken === 'object' && !full && cursor !== undefined) {
        handed = feed.handedOver?.(woken.payload, cursor);
      }
      if (woken === 'heartbeat' && !closed) {
        raw.write(': keep-alive\n\n');
        await feed.onHeartbeat?.();
      }
    }
  } catch (error) {
    request.log.error({ err: error }, 'event stream failed');
    raw.destroy();
  } finally {
    raw.off('close', onClose);
    feed.stop?.removeEventListener('abort', onStop);
    if (stopped && !raw.destroyed) raw.end();
  }
}
