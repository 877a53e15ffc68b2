// Writing to name@instance on SQLite and PostgreSQL, with the recipient's key already in the cache
// (the exchange with a real peer is test/federation-pm.test.ts): the sender's copy and the queued
// object are sealed and signed as a local letter, attachments are refused, and the per-peer outbox
// is bounded — past it, writing to that instance is 503 and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyObject } from '../../../crypto/signing.js';
import {
  type Account,
  bearer,
  countRows,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { insertPeer, testPeerKey } from '../../../test-support/federation-keys.js';
import { OUTBOX_PER_PEER_MAX } from './delivery.js';

describe.each(DIALECTS)('writing to another instance on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  const peer = testPeerKey();
  const bob = testPeerKey();

  beforeAll(async () => {
    t = await startTestApp(dialect);
    alice = await registerUser(t.app, 'alice');
    // An address nobody answers at: every delivery attempt fails, so letters stay queued.
    await insertPeer(t.ctx.database, peer, { base_url: 'http://127.0.0.1:9', trusted: true });
    await t.ctx.database.db
      .insertInto('remote_user_keys')
      .values({
        peer_fingerprint: peer.fingerprint,
        name: 'bob',
        username: 'bob',
        nickname: 'bobby',
        pubkey: bob.pubkey,
        fingerprint: bob.fingerprint,
        fetched_at: Date.now(),
      })
      .execute();
  });
  afterAll(() => t.close());

  const address = () => `bob@peer-${peer.fingerprint.slice(0, 6)}`;
  const send = (payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: address(), subject: 'Hello', body: 'Across the water', ...payload },
    });

  it('queues a letter sealed for bob and alice and signed by alice, with no text in it', async () => {
    const res = await send({ subject: 'a secret subject', body: 'a secret body' });
    expect(res.statusCode, res.body).toBe(201);
    const pm = res.json().data;
    expect(pm.to).toEqual({
      fingerprint: bob.fingerprint,
      user_id: null,
      nickname: 'bobby',
      instance: `peer-${peer.fingerprint.slice(0, 6)}`,
      avatar_url: null,
    });
    expect(pm.delivery).toEqual({ state: 'pending', error: null });
    expect(pm).toMatchObject({
      subject: 'a secret subject',
      readable: true,
      signature_valid: true,
    });
    const queued = await t.ctx.database.db
      .selectFrom('pm_outbox')
      .selectAll()
      .where('pm_id', '=', pm.id)
      .executeTakeFirstOrThrow();
    expect(queued.peer_fingerprint).toBe(peer.fingerprint);
    expect(queued.object).not.toContain('secret');
    const object = JSON.parse(queued.object) as Record<string, unknown> & {
      from: { pubkey: string };
      envelopes: Record<string, string>;
    };
    expect(object.type).toBe('private_message');
    expect(object.to).toBe(bob.fingerprint);
    expect(Object.keys(object.envelopes).sort()).toEqual(
      [bob.fingerprint, pm.from.fingerprint].sort(),
    );
    expect(verifyObject(object, object.from.pubkey)).toBe(true);
  });

  it('refuses attachments to another instance, storing nothing', async () => {
    const before = await countRows(t, 'private_messages');
    const res = await send({ attachments: ['a'.repeat(64)] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.fields[0].field).toBe('body.attachments');
    expect(await countRows(t, 'private_messages')).toBe(before);
  });

  it(`holds at most ${OUTBOX_PER_PEER_MAX} letters for one instance`, async () => {
    const waiting = await countRows(t, 'pm_outbox');
    const now = Date.now();
    const rows = Array.from({ length: OUTBOX_PER_PEER_MAX - waiting }, (_, i) => ({
      pm_id: `filler-${i}`,
      peer_fingerprint: peer.fingerprint,
      object: '{}',
      // Not due for an hour: the deliverer leaves them alone.
      next_attempt_at: now + 3600_000,
      leased_until: null,
      last_error: null,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += 200) {
      await t.ctx.database.db
        .insertInto('pm_outbox')
        .values(rows.slice(i, i + 200))
        .execute();
    }
    const before = await countRows(t, 'private_messages');
    const res = await send({});
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('SERVER_BUSY');
    expect(await countRows(t, 'private_messages')).toBe(before);
    expect(await countRows(t, 'pm_outbox')).toBe(OUTBOX_PER_PEER_MAX);
  });
});
