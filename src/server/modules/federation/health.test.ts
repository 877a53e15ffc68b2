// Federation health on SQLite and PostgreSQL: the queue a peer has (only its shared boards' rooms,
// after its acknowledged cursor, not what it sent itself), lag, counters and the state rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import {
  DEAD_AFTER_FAILURES,
  DEAD_AFTER_SECONDS,
  LAGGING_AFTER_OBJECTS,
  LAGGING_AFTER_SECONDS,
  stateOf,
  SUMMARY_MAX_AGE_MS,
} from './health.js';

const fp = (c: string) => c.repeat(64);
const NOW = 1_800_000_000_000;

describe.each(DIALECTS)('federation health on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const db = t.ctx.database.db;
    await db
      .insertInto('peers')
      .values(
        ['a', 'b', 'c'].map((c) => ({
          fingerprint: fp(c),
          pubkey: 'pem',
          base_url: `http://${c}.example`,
          nickname: `peer-${c}`,
          trusted: c !== 'c',
          created_at: NOW - 3_600_000,
          updated_at: NOW - 3_600_000,
        })),
      )
      .execute();
    for (const [name, room, peers] of [
      ['shared', 'room-1', [fp('a'), fp('b')]],
      ['other', 'room-2', [fp('b')]],
      ['unshared-room', null, [fp('a')]],
    ] as const) {
      await t.ctx.boards.create({
        name,
        description: '',
        is_realtime: false,
        federation_room_id: room,
        trusted_peers: [...peers],
        message_retention_days: null,
        read_access: 'public',
        post_access: 'members',
        position: 0,
        thread_order: 'activity',
      });
    }
    const entry = (i: number, room: string, from: string | null, age: number) => ({
      object_id: `obj-${i}`,
      type: 'message',
      room_id: room,
      received_from: from,
      object: '{}',
      size: 100,
      created_at: NOW - age * 1000,
    });
    await db
      .insertInto('federation_log')
      .values([
        entry(1, 'room-1', null, 900), // seq 1: acknowledged by a
        entry(2, 'room-1', null, 600), // seq 2: waits for a, 600 s old
        entry(3, 'room-2', null, 500), // seq 3: not a's room
        entry(4, 'room-1', fp('a'), 400), // seq 4: came from a, not due back
        entry(5, 'room-1', fp('b'), 30), // seq 5: relayed from b, due to a
      ])
      .execute();
    // Every row names every column: SQLite fills a multi-row insert's gaps with NULL.
    const counters = { objects_out: 0, bytes_out: 0, objects_in: 0, bytes_in: 0, refused_in: 0 };
    await db
      .insertInto('peer_delivery')
      .values([
        {
          failures: 0,
          last_error_at: null,
          last_error: null,
          peer_fingerprint: fp('a'),
          acked_seq: 1,
          objects_out: 1,
          bytes_out: 100,
          objects_in: 4,
          bytes_in: 2048,
          refused_in: 1,
          last_success_at: NOW - 10_000,
        },
        {
          ...counters,
          peer_fingerprint: fp('b'),
          acked_seq: 5,
          failures: DEAD_AFTER_FAILURES,
          last_success_at: NOW - 7_200_000,
          last_error_at: NOW - 5_000,
          last_error: 'connect ECONNREFUSED',
        },
      ])
      .execute();
  });
  afterAll(() => t.close());

  it('counts what waits for each peer in its shared rooms only, with its age and counters', async () => {
    t.ctx.federationHealth.setChunkFetchesSource((peer) => (peer === fp('a') ? 3 : 0));
    const peers = await t.ctx.peers.all();
    const health = await t.ctx.federationHealth.of(peers, NOW);
    expect(health.get(fp('a'))).toMatchObject({
      state: 'lagging',
      queue_length: 2,
      lag_objects: 2,
      lag_seconds: 600,
      oldest_undelivered_at: NOW - 600_000,
      objects_out: 1,
      bytes_out: 100,
      objects_in: 4,
      bytes_in: 2048,
      refused_in: 1,
      last_success_at: NOW - 10_000,
      chunk_fetches_pending: 3,
    });
    expect(health.get(fp('b'))).toMatchObject({
      state: 'dead',
      queue_length: 0,
      lag_seconds: 0,
      last_error: 'connect ECONNREFUSED',
      consecutive_failures: DEAD_AFTER_FAILURES,
    });
    expect(health.get(fp('c'))).toMatchObject({ state: 'untrusted', queue_length: 0 });
    expect(await t.ctx.federationHealth.summary(peers, NOW)).toEqual({
      peers: 3,
      healthy: 0,
      lagging: 1,
      dead: 1,
      untrusted: 1,
    });
  });

  it('shares one /api/health summary between callers for a few seconds', async () => {
    const read = () => t.ctx.peers.all();
    const first = await t.ctx.federationHealth.recentSummary(read, NOW);
    await t.ctx.database.db
      .updateTable('peers')
      .set({ trusted: true })
      .where('fingerprint', '=', fp('c'))
      .execute();
    expect(await t.ctx.federationHealth.recentSummary(read, NOW + SUMMARY_MAX_AGE_MS - 1)).toEqual(
      first,
    );
    const later = await t.ctx.federationHealth.recentSummary(read, NOW + SUMMARY_MAX_AGE_MS);
    expect(later.untrusted).toBe(first.untrusted - 1);
    await t.ctx.database.db
      .updateTable('peers')
      .set({ trusted: false })
      .where('fingerprint', '=', fp('c'))
      .execute();
  });

  it('calls a peer healthy once it has acknowledged everything', async () => {
    await t.ctx.database.db
      .updateTable('peer_delivery')
      .set({ acked_seq: 5 })
      .where('peer_fingerprint', '=', fp('a'))
      .execute();
    const [a] = (await t.ctx.peers.all()).filter((p) => p.fingerprint === fp('a'));
    const health = (await t.ctx.federationHealth.of([a!], NOW)).get(fp('a'))!;
    expect(health).toMatchObject({ state: 'healthy', queue_length: 0, lag_seconds: 0 });
  });
});

describe('the state rules', () => {
  const peer = { trusted: true, pending_fingerprint: null, created_at: NOW - 60_000 };
  const quiet = {
    last_success_at: NOW - 1000,
    last_error_at: null,
    last_error: null,
    consecutive_failures: 0,
    lag_objects: 0,
    lag_seconds: 0,
  };

  it('puts distrust and key changes before anything else', () => {
    expect(stateOf({ ...peer, trusted: false }, quiet, NOW).state).toBe('untrusted');
    expect(stateOf({ ...peer, pending_fingerprint: fp('d') }, quiet, NOW)).toMatchObject({
      state: 'untrusted',
      reason: expect.stringContaining('key changed'),
    });
  });

  it('calls a failing peer lagging, then dead after enough failures or silence', () => {
    const failing = { ...quiet, last_error_at: NOW - 10, last_error: 'timeout' };
    expect(stateOf(peer, { ...failing, consecutive_failures: 1 }, NOW).state).toBe('lagging');
    expect(
      stateOf(peer, { ...failing, consecutive_failures: DEAD_AFTER_FAILURES }, NOW).state,
    ).toBe('dead');
    const silent = { ...failing, last_success_at: NOW - DEAD_AFTER_SECONDS * 1000 };
    expect(stateOf(peer, { ...silent, consecutive_failures: 1 }, NOW).state).toBe('dead');
    // A success after the error ends the failing spell.
    expect(
      stateOf(peer, { ...failing, last_success_at: NOW, consecutive_failures: 0 }, NOW).state,
    ).toBe('healthy');
  });

  it('calls a peer lagging when its queue is old or long', () => {
    expect(stateOf(peer, { ...quiet, lag_seconds: LAGGING_AFTER_SECONDS }, NOW).state).toBe(
      'lagging',
    );
    expect(stateOf(peer, { ...quiet, lag_objects: LAGGING_AFTER_OBJECTS }, NOW).state).toBe(
      'lagging',
    );
    expect(stateOf(peer, { ...quiet, lag_seconds: LAGGING_AFTER_SECONDS - 1 }, NOW).state).toBe(
      'healthy',
    );
  });
});
