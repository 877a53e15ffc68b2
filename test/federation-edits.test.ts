// Edits and deletions of posts on a shared board between real instances on loopback: A (SQLite)
// and B (PostgreSQL). An author's edit on A reaches B as a signed `edit` object and shows there,
// verified, with its "edited" mark; the author's deletion of an opening post with replies leaves
// the same tombstone on B. A fake instance D that B trusts sends edits B must refuse: signed by
// another key than the author's, forged, or vouched for by another origin than the post's.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signing.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import {
  api,
  type Instance,
  makePeers,
  registerOn,
  shareBoard,
  startInstance,
  waitForEvents,
} from '../src/test-support/federation.js';

const ROOM = 'edited';

interface PostJson {
  id: string;
  subject: string;
  body: string;
  edited_at: string | null;
  deleted: { by: string; at: string } | null;
  signature_valid: boolean;
}

describe('edits and tombstones on a shared board', () => {
  let a: Instance;
  let b: Instance;
  let boards: Record<string, string>;
  let alice: string;
  let bob: string;
  let seenOnB = '0';

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('a', 'sqlite'), startInstance('b', 'postgres')]);
    await makePeers(a, b);
    boards = await shareBoard(ROOM, [
      [a, [b]],
      [b, [a]],
    ]);
    alice = await registerOn(a, 'alice');
    bob = await registerOn(a, 'bob');
  });
  afterAll(async () => {
    await Promise.all([a, b].filter((i) => i !== undefined).map((i) => i.close()));
  });

  const post = (token: string, body: Record<string, unknown>) =>
    api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token,
      body: { board_id: boards.a, ...body },
    });

  /** Posts on A and waits until B holds it: A's log keeps order, so all A logged before is applied on B. */
  async function onBoth(token: string, body: Record<string, unknown>): Promise<string> {
    const { id } = await post(token, body);
    for (let found = false; !found;) {
      const events = await waitForEvents(b, boards.b!, 1, seenOnB);
      seenOnB = events.at(-1)!.cursor;
      found = events.some((e) => e.id === id);
    }
    return id;
  }
  const marker = (subject: string) => onBoth(alice, { subject, body: 'marker' });

  const onB = async (id: string) =>
    (await api<{ message: PostJson; thread: PostJson[] }>(b, `/api/messages/${id}/`)).message;

  let opening = '';

  it("shows on B the author's edit made on A, signed and marked edited", async () => {
    opening = await onBoth(alice, { subject: 'Harbour walk', body: 'Meet at *nine*.' });
    expect((await onB(opening)).edited_at).toBeNull();
    const edited = await api<PostJson>(a, `/api/messages/${opening}/`, {
      method: 'PATCH',
      token: alice,
      body: { subject: 'Harbour walk (moved)', body: 'Meet at **ten**.' },
    });
    await marker('after the edit');
    expect(await onB(opening)).toMatchObject({
      subject: 'Harbour walk (moved)',
      body: 'Meet at **ten**.',
      edited_at: edited.edited_at,
      signature_valid: true,
    });
    const logged = await b.database.db
      .selectFrom('federation_log')
      .select(['type', 'received_from'])
      .where('type', '=', 'edit')
      .execute();
    expect(logged).toEqual([{ type: 'edit', received_from: a.identity.fingerprint }]);
  });

  it('leaves on B the tombstone of an opening post its author deleted on A, with its replies', async () => {
    const reply = await onBoth(bob, {
      subject: 'Re: Harbour walk',
      body: 'I will be there.',
      parent_id: opening,
    });
    await api(a, `/api/messages/${opening}/`, { method: 'DELETE', token: alice });
    await marker('after the deletion');
    const thread = await api<{ message: PostJson; thread: PostJson[] }>(
      b,
      `/api/messages/${opening}/`,
    );
    expect(thread.message).toMatchObject({ body: '', deleted: { by: 'author' } });
    expect(thread.thread.map((m) => m.id)).toEqual([opening, reply]);
    const page = await api<{ items: Array<{ id: string; deleted: unknown }> }>(
      b,
      `/api/boards/${boards.b}/messages/?threads=true`,
    );
    expect(page.items.find((m) => m.id === opening)?.deleted).toMatchObject({ by: 'author' });
  });

  describe('from a fake instance D that B trusts', () => {
    let d: { privateKey: KeyObject; pem: string; fingerprint: string };
    let author: { privateKey: KeyObject; pem: string };
    let client: FederationClient;
    let dPost = '';
    let alicePost = '';

    beforeAll(async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      d = { privateKey: pair.privateKey, pem, fingerprint: fingerprintOf(pair.publicKey) };
      const authorPair = generateKeyPairSync('rsa', { modulusLength: 3072 });
      author = {
        privateKey: authorPair.privateKey,
        pem: authorPair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
      const now = Date.now();
      await b.database.db
        .insertInto('peers')
        .values({
          fingerprint: d.fingerprint,
          pubkey: pem,
          base_url: 'http://127.0.0.1:9',
          nickname: 'd',
          trusted: true,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await b.database.db
        .updateTable('boards')
        .set({ trusted_peers: JSON.stringify([a.identity.fingerprint, d.fingerprint]) })
        .where('id', '=', boards.b!)
        .execute();
      client = new FederationClient(
        { privateKey: d.privateKey, pubkey: pem },
        {
          proxy: undefined,
          responseLimit: 1024 * 1024,
          connectTimeoutMs: 10_000,
          timeoutMs: 30_000,
        },
      );
      alicePost = await onBoth(alice, { subject: 'Tides', body: 'High tide at noon.' });
    });
    afterAll(() => client?.close());

    const send = async (objects: unknown[], routing?: Record<string, { origin: string }>) => {
      const answer = await client.request(
        { base_url: b.url, pubkey: b.identity.pubkey, transport: 'direct', proxy_url: null },
        {
          method: 'POST',
          path: '/api/federation/inbox/',
          body: { objects, ...(routing === undefined ? {} : { routing }) },
        },
      );
      expect(answer.status).toBe(200);
      return answer
        .json<{ data: { results: Array<{ status: string; reason?: string }> } }>()
        .data.results.map((r) => [r.status, r.reason]);
    };
    const edit = (objectId: string, body: string, key = author) =>
      signObject(
        {
          type: 'edit',
          id: uuidv7(),
          object_id: objectId,
          subject: 'Edited',
          body,
          author: { pubkey: key.pem, nickname: 'dora' },
          created_at: new Date().toISOString(),
        },
        key.privateKey,
      );

    it("applies an edit from the post's origin signed by its author", async () => {
      const message = signObject(
        {
          type: 'message',
          id: uuidv7(),
          board: ROOM,
          parent_id: null,
          subject: 'From D',
          body: 'first words',
          attachments: [],
          author: { pubkey: author.pem, nickname: 'dora' },
          created_at: new Date().toISOString(),
        },
        author.privateKey,
      );
      dPost = message.id as string;
      expect(await send([message])).toEqual([['accepted', undefined]]);
      expect(await send([edit(dPost, 'second words')])).toEqual([['accepted', undefined]]);
      expect(await onB(dPost)).toMatchObject({ body: 'second words', signature_valid: true });
    });

    it('refuses edits signed by another key, forged, or not from the post’s origin, changing nothing', async () => {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const strangerKey = {
        privateKey: stranger.privateKey,
        pem: stranger.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
      const forged = { ...edit(dPost, 'signed'), body: 'altered after signing' };
      const relayed = edit(dPost, 'from elsewhere');
      const results = await send(
        [
          edit(dPost, 'not the author', strangerKey),
          forged,
          relayed,
          edit(alicePost, "alice's post is A's, not D's"),
        ],
        { [relayed.id as string]: { origin: 'elsewhere' } },
      );
      expect(results).toEqual([
        ['refused', "edit not signed by the message's author"],
        ['refused', 'bad author signature'],
        ['refused', "edit not from the message's origin"],
        ['refused', "edit not signed by the message's author"],
      ]);
      expect(await onB(dPost)).toMatchObject({ body: 'second words', signature_valid: true });
      expect(await onB(alicePost)).toMatchObject({ body: 'High tide at noon.', edited_at: null });
    });
  });
});
