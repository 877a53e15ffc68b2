// The federation log and the inbox on SQLite and PostgreSQL, two instances in one process: what a
// post, an author's deletion and a profile change put in the log, what a peer may read of it, and
// what the receiving inbox accepts, answers as a duplicate or refuses (changing nothing).
import { generateKeyPairSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../crypto/keys.js';
import { signObject, type SignedObject } from '../../../crypto/signing.js';
import {
  type Account,
  bearer,
  countRows,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { PENDING_DELETE_TTL_MS, PENDING_DELETES_PER_PEER, type Sender } from './inbox.js';

const ROOM = 'room-general';
const BOUNDS = { limit: 100, maxBytes: 1024 * 1024 };

describe.each(DIALECTS)('federation log and inbox on %s', (dialect) => {
  let a: TestApp;
  let b: TestApp;
  let alice: Account;
  let rootA: Account;
  let sharedOnA: string;
  let localOnA: string;
  let sharedOnB: string;
  let senderA: Sender;
  /** A third instance's fingerprint: a peer of B's board that A does not know. */
  const carol = fingerprintOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(dialect), startTestApp(dialect)]);
    senderA = { fingerprint: a.ctx.identity.fingerprint, nickname: a.ctx.identity.nickname };
    let rootB: Account;
    [rootA, rootB] = await Promise.all([registerUser(a.app, 'root'), registerUser(b.app, 'root')]);
    alice = await registerUser(a.app, 'alice');
    await Promise.all([promote(a, 'root', 'sysop'), promote(b, 'root', 'sysop')]);
    sharedOnA = await createBoard(a, rootA, {
      name: 'General',
      federation_room_id: ROOM,
      trusted_peers: [b.ctx.identity.fingerprint],
    });
    localOnA = await createBoard(a, rootA, { name: 'Local' });
    sharedOnB = await createBoard(b, rootB, {
      name: 'General',
      federation_room_id: ROOM,
      trusted_peers: [a.ctx.identity.fingerprint, carol],
    });
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  async function createBoard(t: TestApp, sysop: Account, payload: object): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/boards/',
      headers: bearer(sysop.token),
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data.id as string;
  }

  async function post(board: string, subject: string, parentId?: string): Promise<string> {
    const res = await a.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(alice.token),
      payload: { board_id: board, subject, body: `${subject} body`, parent_id: parentId },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data.id as string;
  }

  /** A deletion of the message signed by a key that is not its author's (under alice's name). */
  function deletionByAnother(messageId: string) {
    const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return signObject(
      {
        type: 'delete',
        id: uuidv7(),
        object_id: messageId,
        author: {
          pubkey: mallory.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          nickname: 'alice',
        },
        created_at: new Date().toISOString(),
      },
      mallory.privateKey,
    );
  }

  /** Everything A's log holds for B after `after`. */
  const fromA = async (after = 0) =>
    (await a.ctx.federationLog.readForPeer(b.ctx.identity.fingerprint, after, BOUNDS)).entries;

  const readOnB = (id: string) => b.app.inject({ method: 'GET', url: `/api/messages/${id}/` });

  it('logs posts on a shared board only, and B files them under its board of the same room', async () => {
    const head = await a.ctx.federationLog.head();
    const id = await post(sharedOnA, 'hello peers');
    await post(localOnA, 'stays here');
    const entries = await fromA(head);
    expect(entries.map((e) => e.objectId)).toEqual([id]);

    const results = await b.ctx.inbox.applyBatch(senderA, {
      objects: entries.map((e) => e.object),
    });
    expect(results).toEqual([{ id, status: 'accepted' }]);
    const res = await readOnB(id);
    expect(res.statusCode, res.body).toBe(200);
    const message = res.json().data.message;
    expect(message.board_id).toBe(sharedOnB);
    expect(message.subject).toBe('hello peers');
    expect(message.signature_valid).toBe(true);
    expect(message.author.user_id).toBeNull();
    expect(message.author.nickname).toBe(`alice@${a.ctx.identity.nickname}`);

    // Idempotent by id: the same batch again changes nothing.
    const count = await countRows(b, 'messages');
    expect(
      await b.ctx.inbox.applyBatch(senderA, { objects: entries.map((e) => e.object) }),
    ).toEqual([{ id, status: 'duplicate' }]);
    expect(await countRows(b, 'messages')).toBe(count);
  });

  it('relays what it received to the board’s other peers, never back to the sender', async () => {
    const head = await a.ctx.federationLog.head();
    const id = await post(sharedOnA, 'pass it on');
    await b.ctx.inbox.applyBatch(senderA, { objects: (await fromA(head)).map((e) => e.object) });
    const toCarol = await b.ctx.federationLog.readForPeer(carol, 0, BOUNDS);
    expect(toCarol.entries.map((e) => e.objectId)).toContain(id);
    const backToA = await b.ctx.federationLog.readForPeer(a.ctx.identity.fingerprint, 0, BOUNDS);
    expect(backToA.entries.map((e) => e.objectId)).not.toContain(id);
    // A page short of its limit ends at the head: what is not for A is not scanned again.
    const bHead = await b.ctx.federationLog.head();
    expect(backToA.last).toBe(bHead);
    expect(
      await b.ctx.federationLog.readForPeer(a.ctx.identity.fingerprint, bHead, BOUNDS),
    ).toEqual({ entries: [], last: bHead });
    // A full page ends at its last entry.
    const full = await b.ctx.federationLog.readForPeer(carol, 0, { limit: 1, maxBytes: 1e6 });
    expect(full.entries).toHaveLength(1);
    expect(full.last).toBe(full.entries[0]!.seq);
  });

  it('files a reply in its thread even when it comes first, and bounds pages in bytes', async () => {
    const head = await a.ctx.federationLog.head();
    const root = await post(sharedOnA, 'thread start');
    const reply = await post(sharedOnA, 're: thread start', root);
    const one = await a.ctx.federationLog.readForPeer(b.ctx.identity.fingerprint, head, {
      limit: 100,
      maxBytes: 1,
    });
    expect(one.entries.map((e) => e.objectId)).toEqual([root]);
    // Batches in flight together may arrive out of order: the reply first, then its thread start.
    const [first, second] = (await fromA(head)).map((e) => e.object);
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [second] })).toEqual([
      { id: reply, status: 'accepted' },
    ]);
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [first] })).toEqual([
      { id: root, status: 'accepted' },
    ]);
    const thread = (await readOnB(root)).json().data.thread as Array<{ id: string }>;
    expect(thread.map((m) => m.id).sort()).toEqual([root, reply].sort());
    expect((await readOnB(reply)).json().data.message.thread_id).toBe(root);
  });

  it('refuses forged signatures, unshared boards and banned authors, changing nothing', async () => {
    const head = await a.ctx.federationLog.head();
    await post(sharedOnA, 'original');
    const [entry] = await fromA(head);
    const original = entry!.object;
    const forged = { ...original, id: uuidv7(), body: 'words alice never wrote' };
    const { signature: _s, ...unsigned } = original;
    const eve = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const evePem = eve.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const elsewhere = signObject(
      {
        ...unsigned,
        id: uuidv7(),
        board: 'room-b-does-not-share',
        author: { pubkey: evePem, nickname: 'eve' },
      },
      eve.privateKey,
    );
    const mallory = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const malloryPem = mallory.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const byMallory = signObject(
      { ...unsigned, id: uuidv7(), author: { pubkey: malloryPem, nickname: 'mallory' } },
      mallory.privateKey,
    );
    await b.ctx.database.db
      .insertInto('banned_pubkeys')
      .values({
        fingerprint: fingerprintOf(mallory.publicKey),
        pubkey: malloryPem,
        reason: 'test',
        banned_by: null,
        created_at: Date.now(),
        expires_at: null,
      })
      .execute();
    const before = [await countRows(b, 'messages'), await countRows(b, 'federation_log')];
    const results = await b.ctx.inbox.applyBatch(senderA, {
      objects: [forged, elsewhere, byMallory, { type: 'message', id: 'x' }],
    });
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['refused', 'bad author signature'],
      ['refused', 'board not shared with the sender'],
      ['refused', 'author banned here'],
      ['refused', expect.stringMatching(/^bad schema: /)],
    ]);
    expect([await countRows(b, 'messages'), await countRows(b, 'federation_log')]).toEqual(before);
    // A peer not among the board's trusted_peers is refused the very object B accepts from A.
    const stranger = { fingerprint: '0'.repeat(64), nickname: 'stranger' };
    expect(await b.ctx.inbox.applyBatch(stranger, { objects: [original] })).toEqual([
      { id: original.id, status: 'refused', reason: 'board not shared with the sender' },
    ]);
  });

  it("carries the author's own deletion, and refuses one signed by someone else", async () => {
    const head = await a.ctx.federationLog.head();
    const id = await post(sharedOnA, 'to be deleted');
    await b.ctx.inbox.applyBatch(senderA, { objects: (await fromA(head)).map((e) => e.object) });
    expect((await readOnB(id)).statusCode).toBe(200);

    const notTheAuthor = deletionByAnother(id);
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [notTheAuthor] })).toEqual([
      {
        id: notTheAuthor.id,
        status: 'refused',
        reason: "deletion not signed by the message's author",
      },
    ]);
    expect((await readOnB(id)).statusCode).toBe(200);

    const mid = await a.ctx.federationLog.head();
    const del = await a.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/`,
      headers: bearer(alice.token),
    });
    expect(del.statusCode, del.body).toBe(200);
    const entries = await fromA(mid);
    expect(entries.map((e) => e.type)).toEqual(['delete']);
    expect(
      (await b.ctx.inbox.applyBatch(senderA, { objects: entries.map((e) => e.object) }))[0]!.status,
    ).toBe('accepted');
    expect((await readOnB(id)).statusCode).toBe(404);
  });

  it('keeps a deletion that arrives before its message and applies it when the message comes', async () => {
    const head = await a.ctx.federationLog.head();
    const id = await post(sharedOnA, 'deleted before B saw it');
    const forgedTarget = await post(sharedOnA, 'someone else tries to delete this');
    const del = await a.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/`,
      headers: bearer(alice.token),
    });
    expect(del.statusCode, del.body).toBe(200);
    const entries = await fromA(head);
    expect(entries.map((e) => e.type)).toEqual(['message', 'message', 'delete']);
    const [message, other, deletion] = entries.map((e) => e.object);
    const notTheAuthor = deletionByAnother(forgedTarget);

    // The deletions first: kept, nothing else changes, the same one again is a duplicate.
    const before = await countRows(b, 'messages');
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [deletion, notTheAuthor] })).toEqual([
      { id: deletion!.id, status: 'accepted' },
      { id: notTheAuthor.id, status: 'accepted' },
    ]);
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [deletion] })).toEqual([
      { id: deletion!.id, status: 'duplicate' },
    ]);
    expect(await countRows(b, 'messages')).toBe(before);
    expect(await countRows(b, 'federation_pending_deletes')).toBe(2);

    // Then the messages: the author's deletion applies (and is relayed), the forged one does not.
    const logBefore = await b.ctx.federationLog.head();
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [message, other] })).toEqual([
      { id, status: 'accepted' },
      { id: forgedTarget, status: 'accepted' },
    ]);
    expect((await readOnB(id)).statusCode).toBe(404);
    expect((await readOnB(forgedTarget)).statusCode).toBe(200);
    expect(await countRows(b, 'federation_pending_deletes')).toBe(0);
    const relayed = await b.ctx.federationLog.readForPeer(carol, logBefore, BOUNDS);
    expect(relayed.entries.map((e) => [e.type, e.objectId])).toEqual([
      ['message', id],
      ['delete', deletion!.id],
      ['message', forgedTarget],
    ]);
    // The message again (another peer relaying it) stays deleted: the deletion is in the log.
    expect((await b.ctx.inbox.applyBatch(senderA, { objects: [deletion] }))[0]!.status).toBe(
      'duplicate',
    );
  });

  it('keeps a bounded number of early deletions per peer, and forgets old ones', async () => {
    const now = Date.now();
    const fill = (n: number, receivedAt: number, prefix: string) =>
      b.ctx.database.db
        .insertInto('federation_pending_deletes')
        .values(
          Array.from({ length: n }, (_, i) => ({
            id: `${prefix}-${i}`,
            object_id: `${prefix}-target-${i}`,
            peer_fingerprint: senderA.fingerprint,
            author_fingerprint: 'f'.repeat(64),
            object: '{}',
            received_at: receivedAt,
          })),
        )
        .execute();
    await fill(PENDING_DELETES_PER_PEER, now, 'cap');
    const head = await a.ctx.federationLog.head();
    const id = await post(sharedOnA, 'deleted again before B saw it');
    await a.app.inject({
      method: 'DELETE',
      url: `/api/messages/${id}/`,
      headers: bearer(alice.token),
    });
    const [, deletion] = (await fromA(head)).map((e) => e.object);
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [deletion] })).toEqual([
      {
        id: deletion!.id,
        status: 'refused',
        reason: `message unknown here, and ${PENDING_DELETES_PER_PEER} deletions from this peer wait for their messages already`,
      },
    ]);
    // Once they are older than the time kept, they make room (and are gone).
    await b.ctx.database.db
      .updateTable('federation_pending_deletes')
      .set({ received_at: now - PENDING_DELETE_TTL_MS - 1 })
      .where('id', 'like', 'cap-%')
      .execute();
    expect((await b.ctx.inbox.applyBatch(senderA, { objects: [deletion] }))[0]!.status).toBe(
      'accepted',
    );
    expect(await countRows(b, 'federation_pending_deletes')).toBe(1);
  });

  it('sends a profile change of an author who posted on a shared board', async () => {
    const head = await a.ctx.federationLog.head();
    const res = await a.app.inject({
      method: 'PATCH',
      url: '/api/user/profile/',
      headers: bearer(alice.token),
      payload: { nickname: 'Alice Liddell' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const entries = await fromA(head);
    expect(entries.map((e) => e.type)).toEqual(['profile']);
    const profile = entries[0]!.object as SignedObject & { author: { nickname: string } };
    expect(profile.author.nickname).toBe('Alice Liddell');
    expect(await b.ctx.inbox.applyBatch(senderA, { objects: [profile] })).toEqual([
      { id: profile.id, status: 'accepted' },
    ]);
    const stored = await b.ctx.database.db
      .selectFrom('remote_authors')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect([stored.nickname, stored.instance]).toEqual(['Alice Liddell', a.ctx.identity.nickname]);
  });

  it('refuses a local nickname that would look like a remote author', async () => {
    const res = await a.app.inject({
      method: 'PATCH',
      url: '/api/user/profile/',
      headers: bearer(alice.token),
      payload: { nickname: `bob@${b.ctx.identity.nickname}` },
    });
    expect(res.statusCode).toBe(400);
  });

  it('moves a newly added peer’s push cursor back over the board’s history (backfill)', async () => {
    const newcomer = fingerprintOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    const head = await a.ctx.federationLog.head();
    await a.ctx.database.db
      .insertInto('peer_delivery')
      .values({ peer_fingerprint: newcomer, acked_seq: head })
      .execute();
    const res = await a.app.inject({
      method: 'PATCH',
      url: `/api/boards/${sharedOnA}/`,
      headers: bearer(rootA.token),
      payload: { trusted_peers: [b.ctx.identity.fingerprint, newcomer] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const { first } = await a.ctx.database.db
      .selectFrom('federation_log')
      .select((eb) => eb.fn.min('seq').as('first'))
      .where('room_id', '=', ROOM)
      .executeTakeFirstOrThrow();
    const { acked_seq } = await a.ctx.database.db
      .selectFrom('peer_delivery')
      .select('acked_seq')
      .where('peer_fingerprint', '=', newcomer)
      .executeTakeFirstOrThrow();
    expect(Number(acked_seq)).toBe(Number(first) - 1);
    const page = await a.ctx.federationLog.readForPeer(newcomer, Number(acked_seq), BOUNDS);
    expect(page.entries[0]!.seq).toBe(Number(first));
  });
});
