// The in-process event hub: waiters on one channel wake on a number beyond theirs, and one waiter's
// late cancel (after its wake already unsubscribed it) leaves every other waiter subscribed.
import { describe, expect, it } from 'vitest';
import { EventHub } from './event-hub.js';

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
};

describe('EventHub', () => {
  it('wakes a waiter only on a number beyond its own', async () => {
    const hub = new EventHub();
    const waiter = hub.waitBeyond('c', 5);
    hub.publish('c', 5);
    expect(await settled(waiter.promise)).toBe(false);
    hub.publish('other', 9);
    expect(await settled(waiter.promise)).toBe(false);
    hub.publish('c', 6);
    expect(await settled(waiter.promise)).toBe(true);
  });

  it('keeps a waiter that subscribed after a wake when an older waiter cancels late', async () => {
    const hub = new EventHub();
    // Two streams wait; one event wakes both (each wake unsubscribes its own listener).
    const first = hub.waitBeyond('c', 0);
    const second = hub.waitBeyond('c', 0);
    hub.publish('c', 1);
    expect(await settled(first.promise)).toBe(true);
    expect(await settled(second.promise)).toBe(true);
    // The first loops and waits again before the second gets round to its cancel().
    first.cancel();
    const again = hub.waitBeyond('c', 1);
    second.cancel();
    hub.publish('c', 2);
    expect(await settled(again.promise)).toBe(true);
  });
});
