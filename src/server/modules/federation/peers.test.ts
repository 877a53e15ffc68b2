// The peer registry service on SQLite and PostgreSQL, against real second and third instances
// (child processes on loopback): confirmation before storing, fingerprint pinning, who may manage
// peers, transports, a key change held until accepted, and removal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  registerUser,
  promote,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import {
  freePort,
  startPeerInstance,
  type PeerInstance,
} from '../../../test-support/peer-instance.js';
import { PeerInput } from './peer-schema.js';

let alpha: PeerInstance;
let beta: PeerInstance;

beforeAll(async () => {
  [alpha, beta] = await Promise.all([startPeerInstance(), startPeerInstance()]);
});
afterAll(async () => {
  await Promise.all([alpha?.stop(), beta?.stop()]);
});

const input = (fields: Record<string, unknown>) => PeerInput.parse(fields);

describe.each(DIALECTS)('the peer registry on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(() => t.close());

  const registry = () => t.ctx.peers;

  it('shows the fetched fingerprint and stores nothing until it is confirmed', async () => {
    await expect(registry().add(input({ base_url: alpha.url }))).rejects.toMatchObject({
      status: 409,
      code: 'PEER_CONFIRMATION_REQUIRED',
      details: { fingerprint: alpha.fingerprint, nickname: alpha.nickname, base_url: alpha.url },
    });
    expect(await countRows(t, 'peers')).toBe(0);
  });

  it('refuses a fingerprint that is not the one the peer shows', async () => {
    const wrong = beta.fingerprint;
    await expect(
      registry().add(input({ base_url: alpha.url, fingerprint: wrong })),
    ).rejects.toMatchObject({
      status: 409,
      code: 'PEER_FINGERPRINT_MISMATCH',
      details: { fingerprint: alpha.fingerprint, expected: wrong },
    });
    expect(await countRows(t, 'peers')).toBe(0);
  });

  it('answers PEER_UNREACHABLE with the reason when nothing answers or the answer is no identity', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(registry().add(input({ base_url: closed }))).rejects.toMatchObject({
      status: 502,
      code: 'PEER_UNREACHABLE',
      details: { reason: expect.stringContaining('ECONNREFUSED') },
    });
    // An address under the peer where no identity document is served.
    await expect(registry().add(input({ base_url: `${alpha.url}/boards` }))).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
    });
    expect(await countRows(t, 'peers')).toBe(0);
  });

  it('stores a confirmed peer under its key, with its own nickname unless one is given', async () => {
    const peer = await registry().add(
      input({ base_url: `${alpha.url}/`, fingerprint: alpha.fingerprint }),
    );
    expect(peer).toMatchObject({
      fingerprint: alpha.fingerprint,
      base_url: alpha.url,
      nickname: alpha.nickname,
      transport: 'direct',
      proxy_url: null,
      pending_fingerprint: null,
    });
    expect(Boolean(peer.trusted)).toBe(true);
    expect(Boolean(peer.trusted_for_moderation)).toBe(false);
    await expect(
      registry().add(input({ base_url: alpha.url, fingerprint: alpha.fingerprint })),
    ).rejects.toMatchObject({ status: 409, code: 'PEER_EXISTS' });
    expect(await countRows(t, 'peers')).toBe(1);
  });

  it('lets sysops manage peers and refuses everyone else', async () => {
    const [sysop, member] = await Promise.all([registerUser(t.app), registerUser(t.app)]);
    await promote(t, sysop.username, 'sysop');
    const sysopUser = await t.ctx.accounts.getUserByUsername(sysop.username);
    const memberUser = await t.ctx.accounts.getUserByUsername(member.username);
    await expect(registry().get(alpha.fingerprint, memberUser)).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      registry().update(alpha.fingerprint, { trusted: false }, memberUser),
    ).rejects.toMatchObject({ status: 403 });
    await expect(registry().remove(alpha.fingerprint, memberUser)).rejects.toMatchObject({
      status: 403,
    });
    expect((await registry().get(alpha.fingerprint, sysopUser)).fingerprint).toBe(
      alpha.fingerprint,
    );
    expect(Boolean((await registry().get(alpha.fingerprint)).trusted)).toBe(true);
  });

  it('changes transport, trust and limits, and keeps the transport coherent', async () => {
    await expect(
      registry().update(alpha.fingerprint, { transport: 'socks5' }),
    ).rejects.toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    let peer = await registry().update(alpha.fingerprint, {
      transport: 'socks5',
      proxy_url: 'socks5h://127.0.0.1:9050',
      trusted_for_moderation: true,
      objects_per_minute: 600,
    });
    expect(peer).toMatchObject({
      transport: 'socks5',
      proxy_url: 'socks5h://127.0.0.1:9050',
      objects_per_minute: 600,
    });
    expect(Boolean(peer.trusted_for_moderation)).toBe(true);
    peer = await registry().update(alpha.fingerprint, { transport: 'direct' });
    expect(peer).toMatchObject({ transport: 'direct', proxy_url: null });
  });

  it('holds a new key as pending, untrusted, until a sysop accepts exactly that fingerprint', async () => {
    const board = await t.ctx.boards.create({
      name: `shared-${dialect}`,
      description: '',
      is_realtime: false,
      federation_room_id: `room-${dialect}`,
      trusted_peers: [alpha.fingerprint],
      message_retention_days: null,
      read_access: 'public',
      post_access: 'members',
      position: 0,
    });
    await t.ctx.database.db
      .insertInto('peer_delivery')
      .values({ peer_fingerprint: alpha.fingerprint, acked_seq: 7 })
      .execute();
    // The address now serves another instance's key: the same peer would show a new key so.
    await t.ctx.database.db
      .updateTable('peers')
      .set({ base_url: beta.url })
      .where('fingerprint', '=', alpha.fingerprint)
      .execute();

    const { keyChanged, peer } = await registry().refresh(alpha.fingerprint);
    expect(keyChanged).toBe(true);
    expect(peer).toMatchObject({
      fingerprint: alpha.fingerprint,
      pending_fingerprint: beta.fingerprint,
    });
    const health = await t.ctx.federationHealth.of([peer]);
    expect(health.get(alpha.fingerprint)?.state).toBe('untrusted');

    await expect(registry().acceptKey(alpha.fingerprint, alpha.fingerprint)).rejects.toMatchObject({
      status: 409,
      code: 'PEER_FINGERPRINT_MISMATCH',
    });
    expect((await registry().get(alpha.fingerprint)).pending_fingerprint).toBe(beta.fingerprint);

    const moved = await registry().acceptKey(alpha.fingerprint, beta.fingerprint);
    expect(moved).toMatchObject({ fingerprint: beta.fingerprint, pending_fingerprint: null });
    await expect(registry().get(alpha.fingerprint)).rejects.toMatchObject({ status: 404 });
    expect((await t.ctx.boards.find(board.id))?.trustedPeers).toEqual([beta.fingerprint]);
    const delivery = await t.ctx.database.db
      .selectFrom('peer_delivery')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(delivery).toMatchObject({ peer_fingerprint: beta.fingerprint, acked_seq: 7 });

    await expect(registry().acceptKey(beta.fingerprint, beta.fingerprint)).rejects.toMatchObject({
      status: 409,
      code: 'NO_KEY_CHANGE',
    });
    const again = await registry().refresh(beta.fingerprint);
    expect(again.keyChanged).toBe(false);
    expect(again.peer.pending_fingerprint).toBeNull();
  });

  it('removes a peer with its delivery state and its place on shared boards', async () => {
    await registry().remove(beta.fingerprint);
    expect(await countRows(t, 'peers')).toBe(0);
    expect(await countRows(t, 'peer_delivery')).toBe(0);
    const boards = await t.ctx.database.db.selectFrom('boards').select('trusted_peers').execute();
    for (const b of boards) expect(JSON.parse(b.trusted_peers)).toEqual([]);
    await expect(registry().remove(beta.fingerprint)).rejects.toMatchObject({ status: 404 });
  });
});
