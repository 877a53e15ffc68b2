// Federation between real instances on loopback: A (SQLite) – B (PostgreSQL) – C (SQLite), where
// A and C are not peers. Posts travel A → B by push and on to C by relay; a B that was stopped
// while A posted catches up with every message once, in order; the author's deletion and profile
// changes travel too, a moderator's deletion does not; forged or unshared objects change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type BoardEventJson,
  type Instance,
  makePeers,
  registerOn,
  shareBoard,
  startInstance,
  waitForEvents,
} from '../src/test-support/federation.js';

const ROOM = 'lobby';

describe('federation log between three instances', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let boards: Record<string, string>;
  let alice: string;
  /** Each instance's board cursor up to which a test has read. */
  const seen: Record<string, string> = { a: '0', b: '0', c: '0' };

  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      startInstance('a', 'sqlite'),
      startInstance('b', 'postgres'),
      startInstance('c', 'sqlite'),
    ]);
    await makePeers(a, b);
    await makePeers(b, c);
    boards = await shareBoard(ROOM, [
      [a, [b]],
      [b, [a, c]],
      [c, [b]],
    ]);
    alice = await registerOn(a, 'alice');
  });
  afterAll(() => Promise.all([a?.close(), b?.close(), c?.close()]));

  const post = (subject: string) =>
    api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject, body: `${subject}.` },
    });

  /** Waits until `count` more events are on the instance's board, and returns them. */
  async function next(instance: Instance, count: number): Promise<BoardEventJson[]> {
    const events = await waitForEvents(
      instance,
      boards[instance.name]!,
      count,
      seen[instance.name],
    );
    seen[instance.name] = events.at(-1)!.cursor;
    return events;
  }

  it('sends a post on A to B, and B relays it to C although A and C are not peers', async () => {
    const { id } = await post('hello federation');
    await next(a, 1);
    const [onB] = await next(b, 1);
    const [onC] = await next(c, 1);
    expect(onB!.id).toBe(id);
    expect(onC!.id).toBe(id);
    expect(onB!.author.nickname).toBe(`alice@${a.identity.nickname}`);
    expect(onB!.author.user_id).toBeNull();
    const onBMessage = await api<{ message: { signature_valid: boolean } }>(
      b,
      `/api/messages/${id}/`,
    );
    expect(onBMessage.message.signature_valid).toBe(true);
  });

  it('gives a B that was stopped while A posted 200 messages all of them once, in order', async () => {
    await b.stop();
    const subjects: string[] = [];
    for (let i = 0; i < 200; i++) {
      subjects.push(`while B was away ${i}`);
      await post(subjects[i]!);
    }
    await next(a, 200);
    await b.restart();
    const onB = await next(b, 200);
    expect(onB.map((e) => e.subject)).toEqual(subjects);
    const onC = await next(c, 200);
    expect(onC.map((e) => e.subject)).toEqual(subjects);
    for (const instance of [b, c]) {
      const rows = await instance.database.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject', 'like', 'while B was away %')
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(200);
    }
  });

  it("carries the author's own deletion to B and C, and not a moderator's", async () => {
    const own = await post('alice will delete this');
    const moderated = await post('a moderator will delete this');
    await Promise.all([next(a, 2), next(b, 2), next(c, 2)]);
    await api(a, `/api/messages/${own.id}/`, { method: 'DELETE', token: alice });
    await api(a, `/api/messages/${moderated.id}/?reason=house%20rules`, {
      method: 'DELETE',
      token: a.sysopToken,
    });
    // The log keeps order: once the marker is there, the deletion before it was applied.
    await post('marker after the deletions');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      await expect(api(instance, `/api/messages/${own.id}/`)).rejects.toThrow(/404/);
      await expect(api(instance, `/api/messages/${moderated.id}/`)).resolves.toBeDefined();
    }
  });

  it('carries a profile change of an author to B and on to C', async () => {
    await api(a, '/api/user/profile/', {
      method: 'PATCH',
      token: alice,
      body: { nickname: 'Alice Liddell' },
    });
    await post('marker after the profile change');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      const profile = await instance.database.db
        .selectFrom('remote_authors')
        .select(['nickname'])
        .executeTakeFirstOrThrow();
      expect(profile.nickname).toBe('Alice Liddell');
    }
  });
});
