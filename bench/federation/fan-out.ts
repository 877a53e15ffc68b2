// Fan-out: one post on A to its 5 peers (a star, each peer trusting only A), timed from sending
// the post until the last peer's board has it, and until the first has it (the reference: one
// delivery). Each peer's long poll is open before the post is sent.
import { percentile } from '../support.js';
import {
  launchInstance,
  post,
  register,
  shareStar,
  trust,
  waitForCount,
  type BenchInstance,
} from './instances.js';
import { FANOUT_PEERS, FANOUT_POSTS, FANOUT_ROOM } from './options.js';

export interface FanOut {
  /** p50 milliseconds over the posts. */
  last: number;
  first: number;
}

export async function runFanOut(a: BenchInstance): Promise<FanOut> {
  const peers: BenchInstance[] = [];
  try {
    for (let i = 0; i < FANOUT_PEERS; i++) peers.push(await launchInstance(`p${i + 1}`));
    for (const peer of peers) {
      await trust(a, peer);
      await trust(peer, a);
    }
    const boards = await shareStar(FANOUT_ROOM, a, peers);
    const poster = await register(a, 'fanout');
    const cursors = new Map(peers.map((p) => [p, '0']));
    const last: number[] = [];
    const first: number[] = [];
    // Post -1 is not counted: it carries the first connections from A to each peer.
    for (let n = -1; n < FANOUT_POSTS; n++) {
      const started = performance.now();
      const arrivals = peers.map(async (peer) => {
        cursors.set(peer, await waitForCount(peer, boards.get(peer)!, 1, cursors.get(peer)));
        return performance.now() - started;
      });
      await post(a, poster, boards.get(a)!, `fan-out ${n}`);
      const times = await Promise.all(arrivals);
      if (n < 0) continue;
      last.push(Math.max(...times));
      first.push(Math.min(...times));
    }
    return { last: percentile(last, 50), first: percentile(first, 50) };
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
}
