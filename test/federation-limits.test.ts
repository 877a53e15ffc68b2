// Federation limits and transport on real instances (separate `axon start` processes): a peer
// flooding past its objects per minute is throttled while another peer's posts still arrive; a
// link that goes only through a real microsocks; and an instance stopped in the middle of an
// exchange exits by itself and loses nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  makePeers,
  registerOn,
  shareBoard,
  startChain,
  startInstance,
  waitForEvents,
  type BoardEventJson,
  type Chain,
  type Instance,
} from '../src/test-support/federation.js';
import { startMicrosocks, type RunningProxy } from '../src/test-support/socks.js';

/** Resolves once `check` holds, asking again after a short pause (a condition, not a deadline). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Long-polls the board until the message with this id is among its events; the events so far. */
async function waitForMessage(
  instance: Instance,
  boardId: string,
  id: string,
): Promise<BoardEventJson[]> {
  const events: BoardEventJson[] = [];
  let cursor = '0';
  while (!events.some((e) => e.id === id)) {
    const page = await api<{ events: BoardEventJson[]; next_cursor: string }>(
      instance,
      `/api/boards/${boardId}/read_events/?after=${cursor}&wait=30&limit=100`,
    );
    events.push(...page.events);
    cursor = page.next_cursor;
  }
  return events;
}

async function postOn(instance: Instance, token: string, boardId: string, subject: string) {
  return api<{ id: string }>(instance, '/api/messages/', {
    method: 'POST',
    token,
    body: { board_id: boardId, subject, body: `${subject} body` },
  });
}

const deliveryRow = (on: Instance, peer: Instance) =>
  on.database.db
    .selectFrom('peer_delivery')
    .selectAll()
    .where('peer_fingerprint', '=', peer.identity.fingerprint)
    .executeTakeFirst();

describe('a peer flooding past its objects per minute', () => {
  const ROOM = 'room-flood';
  const FLOOD = 30;
  const LIMIT = 10;
  let a: Instance;
  let f: Instance;
  let g: Instance;
  let boards: Record<string, string>;

  beforeAll(async () => {
    [a, f, g] = await Promise.all([
      startInstance('a', 'postgres'),
      startInstance('f', 'sqlite'),
      startInstance('g', 'sqlite'),
    ]);
    await makePeers(a, f);
    await makePeers(a, g);
    // A's sysop limits F through the registry's API.
    await api(a, `/api/federation/peers/${f.identity.fingerprint}/`, {
      method: 'PATCH',
      token: a.sysopToken,
      body: { objects_per_minute: LIMIT },
    });
    boards = await shareBoard(ROOM, [
      [a, [f, g]],
      [f, [a]],
      [g, [a]],
    ]);
  });
  afterAll(() => Promise.all([a, f, g].map((i) => i?.close())));

  it('is throttled while the other peer’s post arrives, and loses nothing', async () => {
    const flooder = await registerOn(f, 'flooder');
    const sent: string[] = [];
    for (let i = 0; i < FLOOD; i++) {
      sent.push((await postOn(f, flooder, boards.f!, `flood ${i}`)).id);
    }
    // F's deliverer is told to wait: not a failure, and A shows why in F's health.
    await eventually(async () =>
      /^throttled by the peer: inbox answered 429 FEDERATION_RATE_LIMITED/.test(
        (await deliveryRow(f, a))?.last_error ?? '',
      ),
    );
    expect((await deliveryRow(f, a))!.failures).toBe(0);
    expect((await deliveryRow(a, f))!.last_error).toMatch(/^inbox throttled: /);

    // G's post reaches A while F is held back.
    const poster = await registerOn(g, 'poster');
    const fromG = await postOn(g, poster, boards.g!, 'from g');
    const events = await waitForMessage(a, boards.a!, fromG.id);
    const fromF = events.filter((e) => sent.includes(e.id));
    // At most F's limit of its objects in the window, the first ones, in F's order.
    expect(fromF.length).toBeGreaterThan(0);
    expect(fromF.length).toBeLessThanOrEqual(LIMIT);
    expect(fromF.map((e) => e.id)).toEqual(sent.slice(0, fromF.length));
    const window = await deliveryRow(a, f);
    expect(window!.inbox_window_objects).toBeLessThanOrEqual(LIMIT);
    const stored = await a.database.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('board_id', '=', boards.a!)
      .where('author_instance', '=', f.identity.nickname)
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(fromF.length);
    // F still holds the rest, not acknowledged: they are sent again once the window allows.
    expect(Number((await deliveryRow(f, a))!.acked_seq)).toBeLessThan(FLOOD);

    // A's sysop lifts the limit: after the wait A named, F sends the rest, each once, in order.
    await api(a, `/api/federation/peers/${f.identity.fingerprint}/`, {
      method: 'PATCH',
      token: a.sysopToken,
      body: { objects_per_minute: null },
    });
    const all = await waitForMessage(a, boards.a!, sent.at(-1)!);
    expect(all.filter((e) => sent.includes(e.id)).map((e) => e.id)).toEqual(sent);
  });
});

describe('a chain whose B→C link goes only through microsocks', () => {
  const ROOM = 'room-socks';
  let proxy: RunningProxy & { connections(): string[] };
  let chain: Chain;

  beforeAll(async () => {
    proxy = await startMicrosocks();
    chain = await startChain(ROOM, { bToCProxy: proxy.url });
  });
  afterAll(async () => {
    await chain?.close();
    await proxy?.stop();
  });

  it('relays A’s post to C through the proxy', async () => {
    const { a, c, boards } = chain;
    const token = await registerOn(a, 'alice');
    const { id } = await postOn(a, token, boards.a!, 'through the proxy');
    const [event] = await waitForEvents(c, boards.c!, 1);
    expect(event!.id).toBe(id);
    // microsocks' own log: it connected to C's address for B. Nothing else uses the proxy.
    const cHost = new URL(c.url).host;
    expect(proxy.connections().length).toBeGreaterThan(0);
    expect(new Set(proxy.connections())).toEqual(new Set([cHost]));
  });

  it('stops B in the middle of an exchange: it exits by itself, and C gets everything once', async () => {
    const { a, b, c, boards } = chain;
    const token = await registerOn(a, 'bob');
    const before = await api<{ events: BoardEventJson[] }>(
      c,
      `/api/boards/${boards.c!}/read_events/?after=0&limit=100`,
    );
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await postOn(a, token, boards.a!, `burst ${i}`)).id);
    // B has received some and passed them on: peers' connections to it are busy and kept alive.
    await waitForMessage(c, boards.c!, ids[0]!);
    const exit = await b.server.stop();
    // SIGTERM alone ended it (the helper sends SIGKILL to a process still there after its grace).
    expect(exit).toEqual({ code: 0, signal: null });

    await b.restart();
    const after = await waitForEvents(c, boards.c!, 60, before.events.at(-1)?.cursor ?? '0');
    expect(after.map((e) => e.id)).toEqual(ids);
  });
});
