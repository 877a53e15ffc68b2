// The private-message outbox on SQLite and PostgreSQL, with peers that answer from a script (the
// real exchange between instances is test/federation-pm.test.ts): what a peer's answer does to a
// waiting letter, backoff after failures, and a dead peer never holding up letters to another.
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { insertPeer, testPeerKey } from '../../../test-support/federation-keys.js';
import { FederationError, type FederationRequest, type PeerAddress } from '../federation/client.js';
import { backoffMs, PrivateMessageDelivery } from './delivery.js';
import { RemoteKeys } from './remote.js';

type Answer = { status: number; error?: string } | 'down';

/** Peers by base URL, each answering every letter with its scripted answer. */
class Peers {
  answers = new Map<string, Answer>();
  delivered: Array<{ peer: string; id: string }> = [];
  request(peer: PeerAddress, request: FederationRequest) {
    const answer = this.answers.get(peer.base_url) ?? 'down';
    if (answer === 'down') return Promise.reject(new FederationError('connection refused'));
    const id = (request.body as { id: string }).id;
    if (answer.status < 300) this.delivered.push({ peer: peer.base_url, id });
    const body = Buffer.from(
      JSON.stringify(
        answer.error === undefined
          ? { data: { id, status: 'accepted' } }
          : { error: { code: answer.error, message: `refused: ${answer.error}` } },
      ),
    );
    return Promise.resolve({
      status: answer.status,
      body,
      json: <T>() => JSON.parse(body.toString()) as T,
    });
  }
}

describe.each(DIALECTS)('private-message outbox on %s', (dialect) => {
  let t: TestApp;
  let peers: Peers;
  let delivery: PrivateMessageDelivery;
  const near = testPeerKey();
  const far = testPeerKey();

  beforeAll(async () => {
    t = await startTestApp(dialect);
    await insertPeer(t.ctx.database, near, { base_url: 'https://near.example', trusted: true });
    await insertPeer(t.ctx.database, far, { base_url: 'https://far.example', trusted: true });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.ctx.database.db.deleteFrom('pm_outbox').execute();
    peers = new Peers();
    delivery = new PrivateMessageDelivery(
      t.ctx.database,
      peers,
      new RemoteKeys(t.ctx.database, peers),
      (e) => {
        throw e;
      },
    );
  });

  /** A letter sent to a user of `peer`, waiting in the outbox (its ciphertext is noise). */
  async function waiting(peer: string, at = Date.now()): Promise<string> {
    const id = uuidv7();
    await t.ctx.database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('private_messages')
        .values({
          id,
          sender_id: null,
          recipient_id: null,
          sender_fingerprint: 'a'.repeat(64),
          sender_nickname: 'alice',
          recipient_fingerprint: 'b'.repeat(64),
          ciphertext: 'AAAA',
          envelopes: '{}',
          signature: 'sig',
          created_at: at,
          peer_fingerprint: peer,
          delivery_state: 'pending',
        })
        .execute();
      await trx
        .insertInto('pm_outbox')
        .values({
          pm_id: id,
          peer_fingerprint: peer,
          object: JSON.stringify({ type: 'private_message', id, to: 'b'.repeat(64) }),
          next_attempt_at: at,
          leased_until: null,
          last_error: null,
          created_at: at,
        })
        .execute();
    });
    return id;
  }

  const stateOf = (id: string) =>
    t.ctx.database.db
      .selectFrom('private_messages')
      .select(['delivery_state', 'delivery_error'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const outbox = (id: string) =>
    t.ctx.database.db
      .selectFrom('pm_outbox')
      .selectAll()
      .where('pm_id', '=', id)
      .executeTakeFirst();

  it('marks a taken letter delivered and empties its place in the outbox', async () => {
    peers.answers.set('https://near.example', { status: 201 });
    const id = await waiting(near.fingerprint);
    await delivery.deliverDue();
    expect(await stateOf(id)).toEqual({ delivery_state: 'delivered', delivery_error: null });
    expect(await outbox(id)).toBeUndefined();
  });

  it('ends a letter the peer refuses for good, with the reason', async () => {
    peers.answers.set('https://near.example', { status: 403, error: 'PUBKEY_BANNED' });
    const id = await waiting(near.fingerprint);
    await delivery.deliverDue();
    expect(await stateOf(id)).toEqual({
      delivery_state: 'refused',
      delivery_error: 'PUBKEY_BANNED: refused: PUBKEY_BANNED',
    });
    expect(await outbox(id)).toBeUndefined();
  });

  it('keeps a letter through failures and passing refusals, backing off, then delivers it', async () => {
    const id = await waiting(near.fingerprint);
    for (const answer of [
      'down',
      { status: 503, error: 'SERVER_BUSY' },
      { status: 403, error: 'FEDERATION_UNTRUSTED' },
    ] as const) {
      peers.answers.set('https://near.example', answer);
      const before = Date.now();
      await delivery.deliverDue();
      const row = (await outbox(id))!;
      expect(row.next_attempt_at).toBeGreaterThan(before);
      expect(await stateOf(id)).toMatchObject({ delivery_state: 'pending' });
      // Due again now, as if the backoff had passed.
      await t.ctx.database.db
        .updateTable('pm_outbox')
        .set({ next_attempt_at: 0 })
        .where('pm_id', '=', id)
        .execute();
    }
    expect((await outbox(id))!.attempts).toBe(3);
    peers.answers.set('https://near.example', { status: 201 });
    await delivery.deliverDue();
    expect(await stateOf(id)).toMatchObject({ delivery_state: 'delivered' });
  });

  it('does not let 60 letters for a dead peer hold up a letter for a live one', async () => {
    peers.answers.set('https://near.example', { status: 201 });
    const start = Date.now() - 60_000;
    for (let i = 0; i < 60; i++) await waiting(far.fingerprint, start + i);
    const id = await waiting(near.fingerprint);
    // The first run tries the dead peer once and moves its letters back in line; the second finds
    // the live peer's letter first.
    await delivery.deliverDue();
    await delivery.deliverDue();
    expect(peers.delivered).toEqual([{ peer: 'https://near.example', id }]);
    const far60 = await t.ctx.database.db
      .selectFrom('pm_outbox')
      .select(['attempts', 'next_attempt_at'])
      .where('peer_fingerprint', '=', far.fingerprint)
      .execute();
    expect(far60).toHaveLength(60);
    expect(far60.filter((r) => r.attempts > 0)).toHaveLength(1);
    expect(far60.every((r) => r.next_attempt_at > Date.now() - 1000)).toBe(true);
  });

  it('refuses a letter whose peer was removed', async () => {
    const gone = testPeerKey();
    const id = await waiting(gone.fingerprint);
    await delivery.deliverDue();
    expect(await stateOf(id)).toMatchObject({ delivery_state: 'refused' });
  });

  it('backs off from 0.5 s, doubling, to at most 5 minutes, with jitter', () => {
    expect(backoffMs(0, 1)).toBe(500);
    expect(backoffMs(0, 0)).toBe(250);
    expect(backoffMs(3, 1)).toBe(4000);
    expect(backoffMs(40, 1)).toBe(300_000);
  });
});
