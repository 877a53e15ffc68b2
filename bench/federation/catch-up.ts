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
import { freePort } from '../../src/test-support/socks.js';

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

export interface BehindLink {
  port: number;
  link: SlowLink;
  /** For the instance on `port`: signed requests through the link name the link's host. */
  env: Record<string, string>;
}

/** A port for an instance to come, and a slow link to it. */
export async function behindSlowLink(): Promise<BehindLink> {
  const port = await freePort();
  const link = await startSlowLink({ target: { host: '127.0.0.1', port }, ...SLOW_LINK });
  return { port, link, env: { AXON_PUBLIC_HOSTS: `127.0.0.1:${port},127.0.0.1:${link.port}` } };
}

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

/**
 * A is the sender, `toA` the slow link to it; returns the figures and leaves A running (B and S
 * are closed).
 */
export async function runCatchUp(a: BenchInstance, toA: SlowLink): Promise<CatchUp> {
  const b = await launchInstance('b');
  const behind = await behindSlowLink();
  const toS = behind.link;
  const links = [toA, toS];
  const s = await launchInstance('s', behind.env, behind.port).catch(async (error: unknown) => {
    await toS.close();
    throw error;
  });
  try {
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
    await toS.close();
    await Promise.all([b.close(), s.close()]);
  }
}
