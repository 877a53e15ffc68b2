// Federation between real instances on loopback: A (SQLite) – B (PostgreSQL) – C (SQLite), where
// A and C are not peers. Posts travel A → B by push and on to C by relay; a B that was stopped
// while A posted catches up with every message once, in order; the author's deletion and profile
// changes travel too, a moderator's deletion is refused (B does not trust A for moderation);
// forged or unshared objects change nothing.
import { generateKeyPairSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject, type SignedObject } from '../src/crypto/signing.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import {
  api,
  type BoardEventJson,
  type Chain,
  type Instance,
  registerOn,
  startChain,
  waitForEvents,
} from '../src/test-support/federation.js';

const ROOM = 'lobby';

describe('federation log between three instances', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let boards: Record<string, string>;
  let alice: string;
  /** Each instance's board cursor up to which a test has read. */
  const seen: Record<string, string> = { a: '0', b: '0', c: '0' };

  let chain: Chain | undefined;
  beforeAll(async () => {
    chain = await startChain(ROOM);
    ({ a, b, c, boards } = chain);
    alice = await registerOn(a, 'alice');
  });
  afterAll(() => chain?.close());

  const post = (subject: string) =>
    api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject, body: `${subject}.` },
    });

  /** Waits until `count` more events are on the instance's board, and returns them. */
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

  it('sends a post on A to B, and B relays it to C although A and C are not peers', async () => {
    const { id } = await post('hello federation');
    await next(a, 1);
    const [onB] = await next(b, 1);
    const [onC] = await next(c, 1);
    expect(onB!.id).toBe(id);
    expect(onC!.id).toBe(id);
    expect(onB!.author.nickname).toBe(`alice@${a.identity.nickname}`);
    expect(onB!.author.user_id).toBeNull();
    const onBMessage = await api<{ message: { signature_valid: boolean } }>(
      b,
      `/api/messages/${id}/`,
    );
    expect(onBMessage.message.signature_valid).toBe(true);
  });

  it('gives a B that was stopped while A posted 200 messages all of them once, in order', async () => {
    await b.stop();
    const subjects: string[] = [];
    for (let i = 0; i < 200; i++) {
      subjects.push(`while B was away ${i}`);
      await post(subjects[i]!);
    }
    await next(a, 200);
    await b.restart();
    const onB = await next(b, 200);
    expect(onB.map((e) => e.subject)).toEqual(subjects);
    const onC = await next(c, 200);
    expect(onC.map((e) => e.subject)).toEqual(subjects);
    for (const instance of [b, c]) {
      const rows = await instance.database.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject', 'like', 'while B was away %')
        .executeTakeFirstOrThrow();
      expect(Number(rows.n)).toBe(200);
    }
  });

  it("carries the author's own deletion to B and C, and not a moderator's", async () => {
    const own = await post('alice will delete this');
    const moderated = await post('a moderator will delete this');
    await Promise.all([next(a, 2), next(b, 2), next(c, 2)]);
    await api(a, `/api/messages/${own.id}/`, { method: 'DELETE', token: alice });
    await api(a, `/api/messages/${moderated.id}/?reason=house%20rules`, {
      method: 'DELETE',
      token: a.sysopToken,
    });
    // The log keeps order: once the marker is there, the deletion before it was applied.
    await post('marker after the deletions');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      await expect(api(instance, `/api/messages/${own.id}/`)).rejects.toThrow(/404/);
      await expect(api(instance, `/api/messages/${moderated.id}/`)).resolves.toBeDefined();
    }
  });

  it('carries a profile change of an author to B and on to C', async () => {
    await api(a, '/api/user/profile/', {
      method: 'PATCH',
      token: alice,
      body: { nickname: 'Alice Liddell' },
    });
    await post('marker after the profile change');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      const profile = await instance.database.db
        .selectFrom('remote_authors')
        .select(['nickname'])
        .executeTakeFirstOrThrow();
      expect(profile.nickname).toBe('Alice Liddell');
    }
  });

  it('refuses, over signed HTTP, a forged author signature, an unshared board and a stranger’s deletion', async () => {
    // The test is instance D: a peer B trusts, but with which B shares no board.
    const d = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const dPem = d.publicKey.export({ type: 'spki', format: 'pem' }).toString();
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
    const client = new FederationClient(
      { privateKey: d.privateKey, pubkey: dPem },
      { proxy: undefined, responseLimit: 1024 * 1024, connectTimeoutMs: 10_000, timeoutMs: 30_000 },
    );
    const { id } = await post('a message D will tamper with');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    const row = await a.database.db
      .selectFrom('federation_log')
      .select('object')
      .where('object_id', '=', id)
      .executeTakeFirstOrThrow();
    const original = JSON.parse(row.object) as SignedObject;
    const forged = { ...original, id: uuidv7(), body: 'words alice never wrote' };
    const unshared = signObject(
      {
        type: 'message',
        id: uuidv7(),
        board: ROOM,
        parent_id: null,
        subject: 'from D',
        body: 'D does not share this board with B',
        attachments: [],
        author: { pubkey: dPem, nickname: 'dee' },
        created_at: new Date().toISOString(),
      },
      d.privateKey,
    );
    const deletion = signObject(
      {
        type: 'delete',
        id: uuidv7(),
        object_id: id,
        author: { pubkey: dPem, nickname: 'alice' },
        created_at: new Date().toISOString(),
      },
      d.privateKey,
    );
    const count = async (table: 'messages' | 'federation_log') =>
      Number(
        (
          await b.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = [await count('messages'), await count('federation_log')];
    const answer = await client.request(
      { base_url: b.url, pubkey: b.identity.pubkey, transport: 'direct', proxy_url: null },
      {
        method: 'POST',
        path: '/api/federation/inbox/',
        body: { objects: [forged, unshared, deletion] },
      },
    );
    await client.close();
    expect(answer.status).toBe(200);
    const results = answer.json<{ data: { results: Array<{ status: string; reason: string }> } }>()
      .data.results;
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['refused', 'bad author signature'],
      ['refused', 'board not shared with the sender'],
      ['refused', "deletion not signed by the message's author"],
    ]);
    expect([await count('messages'), await count('federation_log')]).toEqual(before);
    await expect(api(b, `/api/messages/${id}/`)).resolves.toBeDefined();
  });
});
