// Live rooms: an event posted on A, timed from sending the post until each of 100 long-poll
// clients waiting on B has it (through A's log, the push to B's inbox and B's publishEvent), beside
// the same post until each of 100 clients waiting on A itself has it (the local path: the
// reference, measured on the very same posts). Percentiles are over every client and post.
import { percentile } from '../support.js';
import { call, launchInstance, register, trust, type BenchInstance } from './instances.js';
import { LIVE_CLIENTS, LIVE_POSTS, LIVE_ROOM } from './options.js';

export interface Live {
  remote: { p50: number; p99: number };
  local: { p50: number; p99: number };
}

/** One long poll after `after`, until it answers with an event; the time from `started`. */
async function arrival(base: string, boardId: string, after: string, started: number) {
  for (;;) {
    const page = await call<{ events: unknown[] }>(
      base,
      `/api/boards/${boardId}/read_events/?after=${after}&wait=30&limit=100`,
    );
    if (page.events.length > 0) return performance.now() - started;
  }
}

export async function runLive(a: BenchInstance): Promise<Live> {
  const b = await launchInstance('live-b');
  try {
    await trust(a, b);
    await trust(b, a);
    const board = async (on: BenchInstance, peer: BenchInstance) =>
      (
        await call<{ id: string; event_seq?: number }>(on.url, '/api/boards/', {
          method: 'POST',
          token: on.sysopToken,
          body: {
            name: LIVE_ROOM,
            is_realtime: true,
            federation_room_id: LIVE_ROOM,
            trusted_peers: [peer.identity.fingerprint],
          },
        })
      ).id;
    const onA = await board(a, b);
    const onB = await board(b, a);
    const poster = await register(a, 'live');
    const cursor = async (on: BenchInstance, id: string) =>
      (await call<{ next_cursor: string }>(on.url, `/api/boards/${id}/read_events/?limit=1`))
        .next_cursor;
    const remote: number[] = [];
    const local: number[] = [];
    // Post -1 is not counted: it opens the connections from A to B.
    for (let n = -1; n < LIVE_POSTS; n++) {
      const [afterA, afterB] = [await cursor(a, onA), await cursor(b, onB)];
      const started = performance.now();
      const waiting = (base: string, id: string, after: string) =>
        Promise.all(Array.from({ length: LIVE_CLIENTS }, () => arrival(base, id, after, started)));
      const onBTimes = waiting(b.url, onB, afterB);
      const onATimes = waiting(a.url, onA, afterA);
      await call(a.url, `/api/boards/${onA}/post_event/`, {
        method: 'POST',
        token: poster,
        body: { subject: 'line', body: `live ${n}` },
      });
      const [timesB, timesA] = await Promise.all([onBTimes, onATimes]);
      if (n < 0) continue;
      remote.push(...timesB);
      local.push(...timesA);
    }
    return {
      remote: { p50: percentile(remote, 50), p99: percentile(remote, 99) },
      local: { p50: percentile(local, 50), p99: percentile(local, 99) },
    };
  } finally {
    await b.close();
  }
}
