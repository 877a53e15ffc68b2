// Delivery's lease on PostgreSQL: of several processes' deliverers for one peer, exactly one
// delivers; the lease passes on when its holder stops. And the backoff: doubling, jittered, capped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test-support/databases.js';
import type { AxonDatabase } from '../../db/database.js';
import type { PeerRow } from '../../db/schema.js';
import { EventHub } from '../../services/event-hub.js';
import { Realtime } from '../realtime/realtime.js';
import { backoffMs, PeerDelivery, type PeerClient } from './delivery.js';
import { FederationLog } from './log.js';
import type { Inbox } from './inbox.js';
import type { RealtimeConnections } from '../realtime/connections.js';

describe('delivery lease on postgres', () => {
  let test: TestDatabase;
  let database: AxonDatabase;
  const peer: PeerRow = {
    fingerprint: 'ab'.repeat(32),
    pubkey: 'unused',
    base_url: 'http://127.0.0.1:9',
    nickname: 'peer',
    trusted: true,
    trusted_for_moderation: false,
    transport: 'direct',
    proxy_url: null,
    pending_pubkey: null,
    pending_fingerprint: null,
    max_attachment_bytes: null,
    bytes_per_day: null,
    objects_per_minute: null,
    created_at: 0,
    updated_at: 0,
  };
  // The peer is unreachable: every call fails, as a real one to a closed port would.
  const unreachable: PeerClient = {
    request: () => Promise.reject(new Error('connect ECONNREFUSED')),
  };

  beforeAll(async () => {
    ({ test, database } = await openTestDatabase('postgres'));
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  function deliverer(processId: string): PeerDelivery {
    // The log is only read here (no boards are shared): no realtime connections are needed.
    const realtime = new Realtime(new EventHub(), database, {
      connections: undefined as unknown as RealtimeConnections,
      ignorersOf: () => Promise.resolve(new Set<string>()),
      onError: () => undefined,
    });
    return new PeerDelivery(
      peer,
      database,
      new FederationLog(database, realtime),
      undefined as unknown as Inbox,
      unreachable,
      { inFlight: 4, batchObjects: 100, batchBytes: 1 << 20 },
      processId,
      () => undefined,
    );
  }

  it('lets exactly one of several processes deliver to a peer, and hands over on stop', async () => {
    const all = ['p1', 'p2', 'p3', 'p4'].map(deliverer);
    await Promise.all(all.map((d) => d.tick()));
    expect(all.filter((d) => d.holdsLease())).toHaveLength(1);
    const holder = all.find((d) => d.holdsLease())!;
    await holder.stop();
    const rest = all.filter((d) => d !== holder);
    await Promise.all(rest.map((d) => d.tick()));
    expect(rest.filter((d) => d.holdsLease())).toHaveLength(1);
    await Promise.all(rest.map((d) => d.stop()));
  });
});

describe('backoff', () => {
  it('doubles from half a second, jittered between half and all of the step, capped at 5 min', () => {
    expect([1, 2, 3].map((n) => backoffMs(n, () => 1))).toEqual([500, 1000, 2000]);
    expect(backoffMs(3, () => 0)).toBe(1000);
    expect(backoffMs(40, () => 1)).toBe(300_000);
  });
});
