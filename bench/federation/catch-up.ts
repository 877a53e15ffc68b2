// Catch-up: N messages posted on A while B (and S, reached through the slow link both ways) were
// stopped; then each is started alone and timed from listening until its board holds all N.
import { startSlowLink, type SlowLink } from './slow-link.js';
import {
  launchInstance,
  post,
  register,
  shareStar,
  trust,
  waitForCount,
  type BenchInstance,
} from './instances.js';
import { inboxFloorMs, loggedObjects } from './floor.js';
import { MESSAGES, POSTING_CONCURRENCY, ROOM, SLOW_LINK } from './options.js';
import { say } from '../support.js';

export interface CatchUp {
  /** Messages/s: B over loopback, S over the slow link, and the in-process inbox floor. */
  direct: number;
  slow: number;
  floor: number;
  /** Bytes the slow link carried each way during S's catch-up. */
  carried: { up: number; down: number };
}

/** Bytes the links carried each way so far. */
const carriedBy = (links: SlowLink[]) =>
  links.reduce(
    (sum, link) => ({ up: sum.up + link.carried().up, down: sum.down + link.carried().down }),
    { up: 0, down: 0 },
  );

const perSecond = (count: number, ms: number) => count / (ms / 1000);

async function timedCatchUp(instance: BenchInstance, boardId: string): Promise<number> {
  await instance.start();
  const started = performance.now();
  await waitForCount(instance, boardId, MESSAGES).catch((error: unknown) => {
    throw new Error(`${instance.name} did not catch up; it wrote:\n${instance.output()}`, {
      cause: error,
    });
  });
  return performance.now() - started;
}

/** Posts `count` messages on the board, a few requests at a time, in subject order per lane. */
async function postMany(a: BenchInstance, token: string, boardId: string, count: number) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await post(a, token, boardId, `while away ${i}`);
    }
  };
  await Promise.all(Array.from({ length: POSTING_CONCURRENCY }, lane));
}

/** A is the sender; returns the figures and leaves A running (B and S are closed). */
export async function runCatchUp(a: BenchInstance): Promise<CatchUp> {
  const b = await launchInstance('b');
  const s = await launchInstance('s');
  const links: SlowLink[] = [];
  try {
    const toA = await startSlowLink({ target: { host: '127.0.0.1', port: a.port }, ...SLOW_LINK });
    links.push(toA);
    const toS = await startSlowLink({ target: { host: '127.0.0.1', port: s.port }, ...SLOW_LINK });
    links.push(toS);
    await trust(a, b);
    await trust(b, a);
    await trust(a, s, `http://127.0.0.1:${toS.port}`);
    await trust(s, a, `http://127.0.0.1:${toA.port}`);
    const boards = await shareStar(ROOM, a, [b, s]);
    await Promise.all([b.stop(), s.stop()]);
    const alice = await register(a, 'alice');
    say(`posting ${MESSAGES} messages on A while B and S are away`);
    await postMany(a, alice, boards.get(a)!, MESSAGES);

    say('B starts and catches up over loopback');
    const directMs = await timedCatchUp(b, boards.get(b)!);
    await b.stop();
    say('S starts and catches up over the slow link');
    const before = carriedBy(links);
    const slowMs = await timedCatchUp(s, boards.get(s)!);
    const after = carriedBy(links);
    const carried = { up: after.up - before.up, down: after.down - before.down };
    await s.stop();

    say("the floor: a receiver's inbox service applying the same objects in-process");
    const objects = await loggedObjects(a, ROOM);
    if (objects.length !== MESSAGES) {
      throw new Error(`A logged ${objects.length} objects, not ${MESSAGES}`);
    }
    const floorMs = await inboxFloorMs(a, ROOM, objects);
    return {
      direct: perSecond(MESSAGES, directMs),
      slow: perSecond(MESSAGES, slowMs),
      floor: perSecond(MESSAGES, floorMs),
      carried,
    };
  } finally {
    for (const link of links) await link.close();
    await Promise.all([b.close(), s.close()]);
  }
}
