// Notifications across real instances on loopback: A (SQLite) and B (PostgreSQL) share a forum
// board. A thread posted on A that mentions @bob tells Bob on B, and Bob's reply from B tells its
// author Alice on A; each is waited for with the live feed itself, answered the moment the
// received post is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type Instance,
  makePeers,
  registerOn,
  startInstance,
} from '../src/test-support/federation.js';

interface LiveBody {
  version: number;
  unread: number;
}

interface NotificationBody {
  kind: string;
  message_id: string;
  actor: { nickname: string; user_id: string | null };
  subject: string;
}

describe('notifications from peers', () => {
  let a: Instance;
  let b: Instance;
  let alice: string;
  let bob: string;
  const boards: Record<string, string> = {};

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('a', 'sqlite'), startInstance('b', 'postgres')]);
    await makePeers(a, b);
    [alice, bob] = await Promise.all([registerOn(a, 'alice'), registerOn(b, 'bob')]);
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const board = await api<{ id: string }>(self, '/api/boards/', {
        method: 'POST',
        token: self.sysopToken,
        body: {
          name: 'Harbour',
          federation_room_id: 'harbour',
          trusted_peers: [other.identity.fingerprint],
        },
      });
      boards[self.name] = board.id;
    }
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  /** The user's live state once it moves past `after` (a long poll, 30 s at most per round). */
  async function liveAfter(instance: Instance, token: string, after: number): Promise<LiveBody> {
    for (;;) {
      const state = await api<LiveBody>(
        instance,
        `/api/notifications/live/?after=${after}&wait=30`,
        { token },
      );
      if (state.version > after) return state;
    }
  }

  const latest = async (instance: Instance, token: string) =>
    (await api<{ items: NotificationBody[] }>(instance, '/api/notifications/?limit=1', { token }))
      .items[0];

  it('tells local users of remote mentions and replies', async () => {
    const thread = await api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject: 'Boats', body: 'Which boat, @bob?' },
    });
    const bobState = await liveAfter(b, bob, 0);
    expect(bobState.unread).toBe(1);
    expect(await latest(b, bob)).toMatchObject({
      kind: 'mention',
      message_id: thread.id,
      subject: 'Boats',
      actor: { nickname: `alice@${a.identity.nickname}`, user_id: null },
    });

    const before = (await api<LiveBody>(a, '/api/notifications/live/', { token: alice })).version;
    const reply = await api<{ id: string }>(b, '/api/messages/', {
      method: 'POST',
      token: bob,
      body: { board_id: boards.b, subject: 'Re: Boats', body: 'The red one', parent_id: thread.id },
    });
    const aliceState = await liveAfter(a, alice, before);
    expect(aliceState.unread).toBe(1);
    expect(await latest(a, alice)).toMatchObject({
      kind: 'reply',
      message_id: reply.id,
      actor: { nickname: `bob@${b.identity.nickname}`, user_id: null },
    });
  });
});
