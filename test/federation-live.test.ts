// Live rooms across real instances on loopback: A (SQLite, the room's home) and B (PostgreSQL)
// share a realtime board. Events posted on either reach the other's long-poll and SSE readers;
// a B that was stopped while A posted continues from its readers' cursors with nothing missed or
// doubled; presence shows the other side's users as nickname@instance; concurrent writers of a
// shared room's state on both instances get one winner per version, and no reader sees a version
// go backwards; forged, unshared and untrusted writes change nothing.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signing.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
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

const ROOM = 'live-room';

interface StateJson {
  room_id: string;
  version: number;
  state: unknown;
  updated_by: string | null;
}

/** A raw call: the status and the envelope, whatever the status. */
async function call(
  instance: Instance,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; data: unknown; error: { code: string; details?: unknown } | null }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${instance.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const json = (await response.json()) as { data: unknown; error: { code: string } | null };
  return { status: response.status, data: json.data, error: json.error };
}

/** An SSE reader of a board: collects events as they arrive; resumes after `after`. */
function openStream(instance: Instance, boardId: string, token: string, after: string) {
  const events: BoardEventJson[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(
      `${instance.url}/api/boards/${boardId}/events/stream/?after=${after}`,
      { headers: { authorization: `Bearer ${token}` }, signal: controller.signal },
    );
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data !== undefined && frame.includes('event: message')) {
          events.push(JSON.parse(data.slice(6)) as BoardEventJson);
        }
      }
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return {
    events,
    /** Resolves once the stream holds `count` events. */
    async until(count: number): Promise<BoardEventJson[]> {
      while (events.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
      return events.slice(0, count);
    },
    async close() {
      controller.abort();
      await done;
    },
  };
}

/** Polls (with a pause between) until the check answers something; returns it. */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('live rooms across two instances', () => {
  let a: Instance;
  let b: Instance;
  let boards: Record<string, string>;
  let alice: string;
  let bob: string;
  /** Each instance's board cursor up to which the long-poll reader has read. */
  const seen: Record<string, string> = { a: '0', b: '0' };

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('a', 'sqlite'), startInstance('b', 'postgres')]);
    await makePeers(a, b);
    boards = await shareBoard(ROOM, [
      [a, [b]],
      [b, [a]],
    ]);
    // A created the room: B names A as its home.
    await api(b, `/api/boards/${boards.b}/`, {
      method: 'PATCH',
      token: b.sysopToken,
      body: { federation_home: a.identity.fingerprint },
    });
    [alice, bob] = await Promise.all([registerOn(a, 'alice'), registerOn(b, 'bob')]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const postEvent = (on: Instance, token: string, subject: string, body: string) =>
    api<{ event: { id: string } } | { id: string }>(
      on,
      `/api/boards/${boards[on.name]}/post_event/`,
      { method: 'POST', token, body: { subject, body } },
    );

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

  it('brings an event posted on A to long-poll and SSE readers on B, and one posted on B to A', async () => {
    const stream = openStream(b, boards.b!, bob, seen.b!);
    await postEvent(a, alice, 'move', 'e2e4');
    const [onA] = await next(a, 1);
    const [polled] = await next(b, 1);
    const [streamed] = await stream.until(1);
    await stream.close();
    expect(polled!.id).toBe(onA!.id);
    expect(streamed!.id).toBe(onA!.id);
    expect(polled!.subject).toBe('move');
    expect(polled!.body).toBe('e2e4');
    expect(polled!.author.nickname).toBe(`alice@${a.identity.nickname}`);
    expect(polled!.author.user_id).toBeNull();
    // The event travelled as a signed event object (DESIGN.md §7 "chat events").
    const logged = await b.database.db
      .selectFrom('federation_log')
      .select(['type', 'received_from'])
      .where('object_id', '=', onA!.id)
      .executeTakeFirstOrThrow();
    expect(logged).toEqual({ type: 'event', received_from: a.identity.fingerprint });
    // Signed as an event, it still verifies when read as a message, on both instances.
    for (const instance of [a, b]) {
      const read = await api<{ message: { signature_valid: boolean } }>(
        instance,
        `/api/messages/${onA!.id}/`,
      );
      expect(read.message.signature_valid).toBe(true);
    }

    const streamOnA = openStream(a, boards.a!, alice, seen.a!);
    await postEvent(b, bob, 'move', 'e7e5');
    const [fromB] = await next(b, 1);
    const [reply] = await next(a, 1);
    const [streamedOnA] = await streamOnA.until(1);
    await streamOnA.close();
    expect(reply!.id).toBe(fromB!.id);
    expect(streamedOnA!.id).toBe(fromB!.id);
    expect(reply!.author.nickname).toBe(`bob@${b.identity.nickname}`);
  });

  it("refuses a room's home that is not among the board's peers, and changes nothing", async () => {
    const answer = await call(b, `/api/boards/${boards.b}/`, {
      method: 'PATCH',
      token: b.sysopToken,
      body: { federation_home: 'e'.repeat(64) },
    });
    expect(answer.status).toBe(400);
    expect(answer.error!.code).toBe('VALIDATION_ERROR');
    const board = await api<{ federation_home: string | null }>(b, `/api/boards/${boards.b}/`);
    expect(board.federation_home).toBe(a.identity.fingerprint);
  });

  it('lets readers on a B that was stopped continue from their cursor: nothing missed, nothing doubled', async () => {
    const cursorBefore = seen.b!;
    await b.stop();
    const bodies: string[] = [];
    for (let i = 0; i < 20; i++) {
      bodies.push(`while B was away ${i}`);
      await postEvent(a, alice, 'line', bodies[i]!);
    }
    await next(a, 20);
    await b.restart();
    const stream = openStream(b, boards.b!, bob, cursorBefore);
    const polled = await next(b, 20);
    const streamed = await stream.until(20);
    await stream.close();
    expect(polled.map((e) => e.body)).toEqual(bodies);
    expect(streamed.map((e) => e.id)).toEqual(polled.map((e) => e.id));
    // Nothing more arrives behind the cursor: the board holds each event once.
    const page = await api<{ events: BoardEventJson[] }>(
      b,
      `/api/boards/${boards.b}/read_events/?after=${cursorBefore}&limit=100`,
    );
    expect(page.events.map((e) => e.body)).toEqual(bodies);
  });

  it("shows each instance's present users on the other as nickname@instance", async () => {
    type Presence = { users: Array<{ user_id: string | null; nickname: string }> };
    // The user stays active in the room on their own instance (a reader's polls mark them present
    // again every 10 s, and each mark is reported) until the other instance lists them.
    const remoteOn = (instance: Instance, nickname: string, home: Instance, token: string) =>
      eventually(async () => {
        await api(home, `/api/boards/${boards[home.name]}/read_events/?limit=1`, { token });
        const { users } = await api<Presence>(
          instance,
          `/api/boards/${boards[instance.name]}/presence/`,
        );
        return users.find((u) => u.nickname === nickname);
      });
    expect(await remoteOn(a, `bob@${b.identity.nickname}`, b, bob)).toMatchObject({
      user_id: null,
    });
    expect(await remoteOn(b, `alice@${a.identity.nickname}`, a, alice)).toMatchObject({
      user_id: null,
    });
  });

  it('gives concurrent writers on both instances one winner per version; no reader sees a version go backwards', async () => {
    const room = `/api/boards/${boards.a}/rooms/race/shared_state/`;
    const roomOn = (i: Instance) => `/api/boards/${boards[i.name]}/rooms/race/shared_state/`;
    const ROUNDS = 8;
    const won: Array<{ version: number; writer: string }> = [];
    let writing = true;
    const observed: Record<string, number[]> = { a: [], b: [] };
    // Readers on both sides, each long-polling for the next version.
    const readers = [a, b].map(async (instance) => {
      let after = 0;
      while (writing || after < won.length) {
        const s = await api<StateJson>(
          instance,
          `${roomOn(instance)}?after_version=${after}&wait=2`,
        );
        observed[instance.name]!.push(s.version);
        after = Math.max(after, s.version);
        if (!writing && after >= won.length) break;
      }
    });
    const writer = async (instance: Instance, token: string, name: string) => {
      let wins = 0;
      let base = (await api<StateJson>(instance, roomOn(instance))).version;
      while (wins < ROUNDS) {
        const answer = await call(instance, roomOn(instance), {
          method: 'POST',
          token,
          body: { version: base, state: { last: name, base } },
        });
        if (answer.status === 200) {
          const s = answer.data as StateJson;
          won.push({ version: s.version, writer: name });
          wins++;
          base = s.version;
        } else {
          expect(answer.status).toBe(409);
          expect(answer.error!.code).toBe('VERSION_CONFLICT');
          base = (answer.error!.details as { current: { version: number } }).current.version;
        }
      }
    };
    await Promise.all([writer(a, alice, 'alice'), writer(b, bob, 'bob')]);
    writing = false;
    await Promise.all(readers);
    const versions = won.map((w) => w.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 2 * ROUNDS }, (_, i) => i + 1));
    for (const name of ['a', 'b']) {
      const seenVersions = observed[name]!;
      expect(seenVersions).toEqual([...seenVersions].sort((x, y) => x - y));
    }
    const finalA = await api<StateJson>(a, room);
    const finalB = await api<StateJson>(b, `${roomOn(b)}?after_version=${2 * ROUNDS - 1}&wait=30`);
    expect(finalA.version).toBe(2 * ROUNDS);
    expect(finalB.version).toBe(2 * ROUNDS);
    expect(finalB.state).toEqual(finalA.state);
  });

  describe('refuses', () => {
    /** A key of our own, as instance D: trusted by A only when a test says so. */
    let d: { publicKey: KeyObject; privateKey: KeyObject };
    let dPem: string;
    let client: FederationClient;
    beforeAll(() => {
      d = generateKeyPairSync('rsa', { modulusLength: 3072 });
      dPem = d.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      client = new FederationClient(
        { privateKey: d.privateKey, pubkey: dPem },
        {
          proxy: undefined,
          responseLimit: 1024 * 1024,
          connectTimeoutMs: 10_000,
          timeoutMs: 30_000,
        },
      );
    });
    afterAll(() => client.close());

    const toA = () => ({
      base_url: a.url,
      pubkey: a.identity.pubkey,
      transport: 'direct' as const,
      proxy_url: null,
    });
    const roomWrite = (version: number, room = ROOM) =>
      signObject(
        {
          type: 'room_state',
          id: uuidv7(),
          board: room,
          room_id: 'race',
          version,
          state: { last: 'mallory' },
          author: { pubkey: dPem, nickname: 'mallory' },
          created_at: new Date().toISOString(),
        },
        d.privateKey,
      );
    const stateOnA = () => api<StateJson>(a, `/api/boards/${boards.a}/rooms/race/shared_state/`);
    const logSize = async () =>
      Number(
        (
          await a.database.db
            .selectFrom('federation_log')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('a room write forwarded by an untrusted peer', async () => {
      const before = [await stateOnA(), await logSize()];
      const current = (before[0] as StateJson).version;
      const answer = await client.request(toA(), {
        method: 'POST',
        path: '/api/federation/rooms/state/',
        body: { object: roomWrite(current + 1) },
      });
      expect(answer.status).toBe(403);
      expect(answer.json<{ error: { code: string } }>().error.code).toBe('FEDERATION_UNTRUSTED');
      expect([await stateOnA(), await logSize()]).toEqual(before);
    });

    it("a trusted peer's room write for a room not shared with it, and an event for an unshared board, and a forged author signature", async () => {
      const now = Date.now();
      await a.database.db
        .insertInto('peers')
        .values({
          fingerprint: fingerprintOf(d.publicKey),
          pubkey: dPem,
          base_url: 'http://127.0.0.1:9',
          nickname: 'd',
          trusted: true,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const before = [await stateOnA(), await logSize()];
      const current = (before[0] as StateJson).version;
      const write = await client.request(toA(), {
        method: 'POST',
        path: '/api/federation/rooms/state/',
        body: { object: roomWrite(current + 1) },
      });
      expect(write.status).toBe(403);
      expect(write.json<{ error: { code: string } }>().error.code).toBe('ROOM_NOT_SHARED');

      // A real event of alice's, its body changed by D: the author signature no longer holds.
      const row = await a.database.db
        .selectFrom('federation_log')
        .select('object')
        .where('type', '=', 'event')
        .where('received_from', 'is', null)
        .executeTakeFirstOrThrow();
      const forged = { ...(JSON.parse(row.object) as object), id: uuidv7(), body: 'not alice' };
      const unshared = signObject(
        {
          type: 'event',
          id: uuidv7(),
          board: ROOM,
          subject: 'line',
          body: 'D shares no board with A',
          author: { pubkey: dPem, nickname: 'dee' },
          created_at: new Date().toISOString(),
        },
        d.privateKey,
      );
      const forgedWrite = { ...roomWrite(current + 1), version: current + 5 };
      const inbox = await client.request(toA(), {
        method: 'POST',
        path: '/api/federation/inbox/',
        body: { objects: [forged, unshared, roomWrite(current + 1)] },
      });
      const results = inbox.json<{ data: { results: Array<{ status: string; reason: string }> } }>()
        .data.results;
      expect(results.map((r) => [r.status, r.reason])).toEqual([
        ['refused', 'bad author signature'],
        ['refused', 'board not shared with the sender'],
        ['refused', 'board not shared with the sender'],
      ]);
      const forgedAnswer = await client.request(toA(), {
        method: 'POST',
        path: '/api/federation/rooms/state/',
        body: { object: forgedWrite },
      });
      expect(forgedAnswer.status).toBe(400);
      expect(JSON.stringify(forgedAnswer.json())).toContain('bad author signature');
      expect([await stateOnA(), await logSize()]).toEqual(before);
    });

    it("a presence report for an unshared room; a room write sent to an instance that is not the room's home is relayed there, within bounds", async () => {
      const report = await client.request(toA(), {
        method: 'POST',
        path: '/api/federation/presence/',
        body: { room: ROOM, users: [{ fingerprint: 'f'.repeat(64), nickname: 'ghost' }] },
      });
      expect(report.status).toBe(403);
      expect(report.json<{ error: { code: string } }>().error.code).toBe('ROOM_NOT_SHARED');
      const ghosts = await a.database.db
        .selectFrom('remote_presence')
        .select('nickname')
        .where('fingerprint', '=', 'f'.repeat(64))
        .execute();
      expect(ghosts).toEqual([]);

      // B shares the room with D too, but B is not the room's home (A is): B relays D's write
      // to A, which decides it; every bad relay is refused and changes nothing.
      const now = Date.now();
      await b.database.db
        .insertInto('peers')
        .values({
          fingerprint: fingerprintOf(d.publicKey),
          pubkey: dPem,
          base_url: 'http://127.0.0.1:9',
          nickname: 'd',
          trusted: true,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await api(b, `/api/boards/${boards.b}/`, {
        method: 'PATCH',
        token: b.sysopToken,
        body: { trusted_peers: [a.identity.fingerprint, fingerprintOf(d.publicKey)] },
      });
      const roomOnB = `/api/boards/${boards.b}/rooms/race/shared_state/`;
      const toB = {
        base_url: b.url,
        pubkey: b.identity.pubkey,
        transport: 'direct' as const,
        proxy_url: null,
      };
      const forward = (body: object) =>
        client.request(toB, { method: 'POST', path: '/api/federation/rooms/state/', body });
      const before = await api<StateJson>(b, roomOnB);
      const refusals = [
        [{ object: roomWrite(before.version + 1), relays: 3 }, 409, 'NOT_ROOM_HOME'],
        [{ object: roomWrite(before.version + 1), relays: 4 }, 400, 'VALIDATION_ERROR'],
      ] as const;
      for (const [body, status, code] of refusals) {
        const answer = await forward(body);
        expect(answer.status).toBe(status);
        expect(answer.json<{ error: { code: string } }>().error.code).toBe(code);
        expect(await api<StateJson>(b, roomOnB)).toEqual(before);
        expect(await stateOnA()).toMatchObject({ version: before.version });
      }

      const relayed = await forward({ object: roomWrite(before.version + 1) });
      expect(relayed.status, relayed.body.toString()).toBe(200);
      expect(relayed.json<{ data: StateJson }>().data).toMatchObject({
        version: before.version + 1,
        state: { last: 'mallory' },
      });
      expect(await stateOnA()).toMatchObject({
        version: before.version + 1,
        state: { last: 'mallory' },
      });
      expect(await api<StateJson>(b, roomOnB)).toMatchObject({ version: before.version + 1 });
      // A stale base is decided at A too: the conflict comes back through B with A's state.
      const stale = await forward({ object: roomWrite(before.version + 1) });
      expect(stale.status).toBe(409);
      const conflict = stale.json<{
        error: { code: string; details: { current: { version: number } } };
      }>().error;
      expect(conflict.code).toBe('VERSION_CONFLICT');
      expect(conflict.details.current.version).toBe(before.version + 1);

      // Versions are taken only from one's federation_home: from D, B (whose home is A) refuses
      // one, and A (which is the home, and now shares the room with D) says both claim the room.
      await api(a, `/api/boards/${boards.a}/`, {
        method: 'PATCH',
        token: a.sysopToken,
        body: { trusted_peers: [b.identity.fingerprint, fingerprintOf(d.publicKey)] },
      });
      const push = async (to: typeof toB) =>
        (
          await client.request(to, {
            method: 'POST',
            path: '/api/federation/inbox/',
            body: { objects: [roomWrite(before.version + 9)] },
          })
        ).json<{ data: { results: Array<{ status: string; reason: string }> } }>().data.results;
      expect(await push(toB)).toMatchObject([
        { status: 'refused', reason: "the sender is not the room's home" },
      ]);
      expect(await push(toA())).toMatchObject([
        {
          status: 'refused',
          reason:
            "the sender is not the room's home: this instance is (both claim it; one must name the other in federation_home)",
        },
      ]);
      expect(await stateOnA()).toMatchObject({ version: before.version + 1 });
      expect(await api<StateJson>(b, roomOnB)).toMatchObject({ version: before.version + 1 });
    });
  });
});
