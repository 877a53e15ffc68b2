// Federated moderation between real instances on loopback: A (SQLite) shares a board with B
// (PostgreSQL) and with C (SQLite); B trusts A for moderation, C does not. A moderator's deletion
// on A becomes a FederatedAction: B applies it (and a moderator of B can reverse it), C records
// the refusal; so do A's bans, unbans and profile corrections. A fake instance D, trusted by B even for moderation, sends a replayed action, a
// forged one, one relayed from another instance, a ban and a profile correction: only the last
// two apply, and a moderator of B reverses each.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject, type SignedObject } from '../src/crypto/signing.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import {
  api,
  makePeers,
  registerOn,
  shareBoard,
  startInstance,
  waitForEvents,
  type Instance,
} from '../src/test-support/federation.js';

const ROOM = 'moderated';

interface ModlogItem {
  actor: { id: string | null; name: string };
  action: string;
  target_id: string;
  reason: string;
  details: Record<string, unknown>;
}

interface ActionItem {
  id: string;
  peer: { fingerprint: string; nickname: string };
  kind: string;
  target: string;
  status: string;
  refusal: string | null;
}

describe('federated moderation between three instances', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let boards: Record<string, string>;
  let alice: string;
  const seen: Record<string, string> = { a: '0', b: '0', c: '0' };

  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      startInstance('a', 'sqlite'),
      startInstance('b', 'postgres'),
      startInstance('c', 'sqlite'),
    ]);
    await makePeers(a, b);
    await makePeers(a, c);
    await b.database.db
      .updateTable('peers')
      .set({ trusted_for_moderation: true })
      .where('fingerprint', '=', a.identity.fingerprint)
      .execute();
    boards = await shareBoard(ROOM, [
      [a, [b, c]],
      [b, [a]],
      [c, [a]],
    ]);
    alice = await registerOn(a, 'alice');
  });
  afterAll(async () => {
    await Promise.all([a, b, c].filter((i) => i !== undefined).map((i) => i.close()));
  });

  const post = (subject: string) =>
    api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject, body: `${subject}.` },
    });

  /** Posts on A and waits until every instance holds it: the log keeps order, so what A logged before it has been applied (or refused) on B and C. */
  async function everywhere(subject: string): Promise<string> {
    const { id } = await post(subject);
    for (const instance of [a, b, c]) {
      // Other events may come first (a message a moderator restored is one, on its board).
      for (let found = false; !found;) {
        const events = await waitForEvents(
          instance,
          boards[instance.name]!,
          1,
          seen[instance.name],
        );
        seen[instance.name] = events.at(-1)!.cursor;
        found = events.some((e) => e.id === id);
      }
    }
    return id;
  }

  const modlog = async (instance: Instance) =>
    (
      await api<{ items: ModlogItem[] }>(instance, '/api/moderation/log/', {
        token: instance.sysopToken,
      })
    ).items;

  const actions = async (instance: Instance) =>
    (
      await api<{ items: ActionItem[] }>(instance, '/api/moderation/federated_actions/', {
        token: instance.sysopToken,
      })
    ).items;

  let moderatedId = '';

  it('deletes on A and B a message a moderator of A deleted; C refuses, its modlog says why', async () => {
    moderatedId = await everywhere('a moderator of A will delete this');
    await api(a, `/api/messages/${moderatedId}/?reason=house%20rules`, {
      method: 'DELETE',
      token: a.sysopToken,
    });
    await everywhere('marker after the deletion');
    await expect(api(a, `/api/messages/${moderatedId}/`)).rejects.toThrow(/404/);
    await expect(api(b, `/api/messages/${moderatedId}/`)).rejects.toThrow(/404/);
    await expect(api(c, `/api/messages/${moderatedId}/`)).resolves.toBeDefined();

    const onB = (await modlog(b)).find((e) => e.target_id === moderatedId)!;
    expect(onB.action).toBe('delete_message');
    expect(onB.actor).toEqual({ id: null, name: `root@${a.identity.nickname}` });
    expect(onB.reason).toBe('house rules');
    expect(onB.details.peer).toBe(a.identity.nickname);
    expect(onB.details.peer_fingerprint).toBe(a.identity.fingerprint);

    const onC = (await modlog(c)).find((e) => e.target_id === moderatedId)!;
    expect(onC.action).toBe('refuse_federated_action');
    expect(onC.reason).toBe('peer not trusted for moderation');
    expect(onC.details.peer).toBe(a.identity.nickname);
    expect(onC.details.their_reason).toBe('house rules');
    const [refused] = await actions(c);
    expect(refused).toMatchObject({ status: 'refused', kind: 'delete_message' });
    expect(refused!.peer.nickname).toBe(a.identity.nickname);
    // C's moderators cannot "reverse" what was never applied.
    await expect(
      api(c, `/api/moderation/federated_actions/${refused!.id}/reverse/`, {
        method: 'POST',
        token: c.sysopToken,
        body: {},
      }),
    ).rejects.toThrow(/409.*ACTION_NOT_APPLIED/);
  });

  it('lets a moderator of B reverse the deletion there, and only there', async () => {
    const [applied] = await actions(b);
    expect(applied).toMatchObject({ status: 'applied', target: moderatedId });
    const bob = await registerOn(b, 'bob');
    await expect(
      api(b, `/api/moderation/federated_actions/${applied!.id}/reverse/`, {
        method: 'POST',
        token: bob,
        body: {},
      }),
    ).rejects.toThrow(/403/);
    const reversed = await api<ActionItem>(
      b,
      `/api/moderation/federated_actions/${applied!.id}/reverse/`,
      { method: 'POST', token: b.sysopToken, body: { reason: 'we keep it here' } },
    );
    expect(reversed.status).toBe('reversed');
    const back = await api<{ message: { body: string; signature_valid: boolean } }>(
      b,
      `/api/messages/${moderatedId}/`,
    );
    expect(back.message.body).toBe('a moderator of A will delete this.');
    expect(back.message.signature_valid).toBe(true);
    expect((await modlog(b))[0]).toMatchObject({
      action: 'reverse_federated_action',
      reason: 'we keep it here',
    });
    await expect(api(a, `/api/messages/${moderatedId}/`)).rejects.toThrow(/404/);
  });

  it('carries a deletion by an upheld report the same way', async () => {
    const reported = await everywhere('this will be reported');
    const carol = await registerOn(a, 'carol');
    const report = await api<{ id: string }>(a, `/api/messages/${reported}/report/`, {
      method: 'POST',
      token: carol,
      body: { reason: 'spam' },
    });
    await api(a, `/api/moderation/reports/${report.id}/resolve/`, {
      method: 'POST',
      token: a.sysopToken,
      body: { action: 'uphold', delete_message: true, note: 'spam it is' },
    });
    await everywhere('marker after the report');
    await expect(api(a, `/api/messages/${reported}/`)).rejects.toThrow(/404/);
    await expect(api(b, `/api/messages/${reported}/`)).rejects.toThrow(/404/);
    await expect(api(c, `/api/messages/${reported}/`)).resolves.toBeDefined();
    const onB = (await modlog(b)).find((e) => e.target_id === reported)!;
    expect(onB).toMatchObject({ action: 'delete_message', reason: 'spam it is' });
  });

  it("sends A's ban and unban of a key: B applies both, C refuses them", async () => {
    await registerOn(a, 'dave');
    const [dave] = await a.database.db
      .selectFrom('users')
      .select('fingerprint')
      .where('username', '=', 'dave')
      .execute();
    const banned = async (instance: Instance) =>
      (
        await api<{ items: Array<{ fingerprint: string; reason: string }> }>(
          instance,
          '/api/moderation/banned_pubkeys/',
          { token: instance.sysopToken },
        )
      ).items.filter((i) => i.fingerprint === dave!.fingerprint);
    await api(a, '/api/moderation/banned_pubkeys/', {
      method: 'POST',
      token: a.sysopToken,
      body: { pubkey: dave!.fingerprint, reason: 'spam everywhere' },
    });
    await everywhere('marker after the ban');
    expect((await banned(a)).map((i) => i.reason)).toEqual(['spam everywhere']);
    expect((await banned(b)).map((i) => i.reason)).toEqual(['spam everywhere']);
    expect(await banned(c)).toEqual([]);
    const onB = (await actions(b)).find((i) => i.kind === 'ban_pubkey')!;
    expect(onB).toMatchObject({ status: 'applied', target: dave!.fingerprint });
    expect(onB.peer.fingerprint).toBe(a.identity.fingerprint);
    expect((await actions(c)).find((i) => i.kind === 'ban_pubkey')).toMatchObject({
      status: 'refused',
      refusal: 'peer not trusted for moderation',
    });

    await api(a, `/api/moderation/banned_pubkeys/${dave!.fingerprint}/`, {
      method: 'DELETE',
      token: a.sysopToken,
    });
    await everywhere('marker after the unban');
    expect(await banned(a)).toEqual([]);
    expect(await banned(b)).toEqual([]);
    expect((await actions(b)).find((i) => i.kind === 'unban_pubkey')).toMatchObject({
      status: 'applied',
      target: dave!.fingerprint,
    });
    expect((await actions(c)).find((i) => i.kind === 'unban_pubkey')).toMatchObject({
      status: 'refused',
    });
  });

  it("sends A's correction of a remote author's profile: B applies it, C refuses it", async () => {
    const author = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const fingerprint = fingerprintOf(author.publicKey);
    const known = {
      fingerprint,
      nickname: 'rude name',
      instance: 'elsewhere',
      avatar: Buffer.from('89504e470d0a1a0a', 'hex'),
      avatar_mime: 'image/png',
      avatar_hash: 'cd'.repeat(32),
      profile_at: Date.now(),
      updated_at: Date.now(),
    };
    for (const instance of [a, b, c]) {
      await instance.database.db.insertInto('remote_authors').values(known).execute();
    }
    const correct = (body: object, token = a.sysopToken) =>
      api(a, '/api/moderation/profile_corrections/', { method: 'POST', token, body });
    // Bad input and a non-moderator change nothing.
    await expect(correct({ fingerprint, nickname: '', reason: 'offensive' })).rejects.toThrow(
      /400.*body.nickname/,
    );
    await expect(
      correct({ fingerprint: 'e'.repeat(64), nickname: 'polite', reason: 'offensive' }),
    ).rejects.toThrow(/404/);
    await expect(
      correct({ fingerprint, nickname: 'polite', reason: 'offensive' }, alice),
    ).rejects.toThrow(/403/);
    await correct({ fingerprint, nickname: 'polite', clear_avatar: true, reason: 'offensive' });
    await everywhere('marker after the correction');
    const profile = (instance: Instance) =>
      instance.database.db
        .selectFrom('remote_authors')
        .select(['nickname', 'avatar_mime'])
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirstOrThrow();
    expect(await profile(a)).toEqual({ nickname: 'polite', avatar_mime: null });
    expect(await profile(b)).toEqual({ nickname: 'polite', avatar_mime: null });
    expect(await profile(c)).toEqual({ nickname: 'rude name', avatar_mime: 'image/png' });
    expect((await actions(c)).find((i) => i.kind === 'correct_profile')).toMatchObject({
      status: 'refused',
      refusal: 'peer not trusted for moderation',
    });
  });

  describe('from a fake instance D that B trusts for moderation', () => {
    let d: { privateKey: KeyObject; pem: string; fingerprint: string };
    let client: FederationClient;
    let original: SignedObject;

    beforeAll(async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      d = { privateKey: pair.privateKey, pem, fingerprint: fingerprintOf(pair.publicKey) };
      const now = Date.now();
      await b.database.db
        .insertInto('peers')
        .values({
          fingerprint: d.fingerprint,
          pubkey: pem,
          base_url: 'http://127.0.0.1:9',
          nickname: 'd',
          trusted: true,
          trusted_for_moderation: true,
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
      const row = await a.database.db
        .selectFrom('federation_log')
        .select('object')
        .where('type', '=', 'action')
        .executeTakeFirstOrThrow();
      original = JSON.parse(row.object) as SignedObject;
    });
    afterAll(() => client?.close());

    const send = async (objects: unknown[]) => {
      const answer = await client.request(
        { base_url: b.url, pubkey: b.identity.pubkey, transport: 'direct', proxy_url: null },
        { method: 'POST', path: '/api/federation/inbox/', body: { objects } },
      );
      expect(answer.status).toBe(200);
      return answer
        .json<{ data: { results: Array<{ status: string; reason?: string }> } }>()
        .data.results.map((r) => [r.status, r.reason]);
    };

    const state = async () => {
      const count = async (table: 'messages' | 'banned_pubkeys' | 'federated_actions') =>
        Number(
          (
            await b.database.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return [
        await count('messages'),
        await count('banned_pubkeys'),
        await count('federated_actions'),
      ];
    };

    it('refuses a replayed action, a forged one and one relayed from another instance; nothing changes', async () => {
      const before = await state();
      const target = await everywhere('D will try to have this deleted');
      const after = await state();
      expect(after[0]).toBe(before[0]! + 1);
      const mallory = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const malloryPem = mallory.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const forged = {
        ...original,
        id: '0190a000-0000-7000-8000-000000000001',
        action: { kind: 'delete_message', message_id: target },
      };
      const relayed = signObject(
        {
          type: 'action',
          id: '0190a000-0000-7000-8000-000000000002',
          action: { kind: 'delete_message', message_id: target },
          reason: 'spam',
          instance: a.identity.fingerprint,
          author: { pubkey: malloryPem, nickname: 'mallory' },
          created_at: new Date().toISOString(),
        },
        mallory.privateKey,
      );
      expect(await send([original, forged, relayed])).toEqual([
        ['duplicate', undefined],
        ['refused', 'bad author signature'],
        ['refused', "action relayed: only the moderator's own instance vouches for it"],
      ]);
      // The replay did not delete again what B's moderator restored; only the relayed one is recorded.
      await expect(api(b, `/api/messages/${moderatedId}/`)).resolves.toBeDefined();
      await expect(api(b, `/api/messages/${target}/`)).resolves.toBeDefined();
      expect(await state()).toEqual([after[0], after[1], after[2]! + 1]);
      // The same relayed object again: a duplicate, not a second modlog line.
      const logged = (await modlog(b)).length;
      expect(await send([relayed])).toEqual([['duplicate', undefined]]);
      expect((await modlog(b)).length).toBe(logged);
    });

    it("applies D's own moderator's ban of a remote key, which a moderator of B reverses", async () => {
      const moderator = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const spammer = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const spammerFp = fingerprintOf(spammer.publicKey);
      const action = (id: string, kind: 'ban_pubkey' | 'unban_pubkey', fingerprint: string) =>
        signObject(
          {
            type: 'action',
            id,
            action:
              kind === 'ban_pubkey'
                ? { kind, fingerprint, expires_at: null }
                : { kind, fingerprint },
            reason: 'spam from this key',
            instance: d.fingerprint,
            author: {
              pubkey: moderator.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
              nickname: 'dmod',
            },
            created_at: new Date().toISOString(),
          },
          moderator.privateKey,
        );
      const [aliceRow] = await a.database.db
        .selectFrom('users')
        .select('fingerprint')
        .where('username', '=', 'alice')
        .execute();
      expect(
        await send([
          action('0190a000-0000-7000-8000-000000000003', 'ban_pubkey', spammerFp),
          action('0190a000-0000-7000-8000-000000000004', 'unban_pubkey', aliceRow!.fingerprint),
        ]),
      ).toEqual([
        ['accepted', undefined],
        ['refused', 'key not banned here'],
      ]);
      const bans = await api<{ items: Array<{ fingerprint: string; reason: string }> }>(
        b,
        '/api/moderation/banned_pubkeys/',
        { token: b.sysopToken },
      );
      expect(bans.items.map((i) => [i.fingerprint, i.reason])).toEqual([
        [spammerFp, 'spam from this key'],
      ]);
      const ban = (await actions(b)).find((i) => i.id === '0190a000-0000-7000-8000-000000000003')!;
      expect(ban.peer).toEqual({ fingerprint: d.fingerprint, nickname: 'd' });
      await api(b, `/api/moderation/federated_actions/${ban.id}/reverse/`, {
        method: 'POST',
        token: b.sysopToken,
        body: {},
      });
      const after = await api<{ items: unknown[] }>(b, '/api/moderation/banned_pubkeys/', {
        token: b.sysopToken,
      });
      expect(after.items).toEqual([]);
      await expect(
        api(b, `/api/moderation/federated_actions/${ban.id}/reverse/`, {
          method: 'POST',
          token: b.sysopToken,
          body: {},
        }),
      ).rejects.toThrow(/409/);
    });

    it("corrects a remote author's profile on D's word, refuses a local user's, and reverses", async () => {
      const moderator = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const author = generateKeyPairSync('rsa', { modulusLength: 3072 });
      const authorFp = fingerprintOf(author.publicKey);
      const avatar = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      await b.database.db
        .insertInto('remote_authors')
        .values({
          fingerprint: authorFp,
          nickname: 'rude name',
          instance: 'd',
          avatar,
          avatar_mime: 'image/png',
          avatar_hash: 'ab'.repeat(32),
          profile_at: Date.now(),
          updated_at: Date.now(),
        })
        .execute();
      const [root] = await b.database.db
        .selectFrom('users')
        .select('fingerprint')
        .where('username', '=', 'root')
        .execute();
      const correct = (id: string, fingerprint: string) =>
        signObject(
          {
            type: 'action',
            id,
            action: {
              kind: 'correct_profile',
              fingerprint,
              nickname: 'polite',
              clear_avatar: true,
            },
            reason: 'offensive nickname',
            instance: d.fingerprint,
            author: {
              pubkey: moderator.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
              nickname: 'dmod',
            },
            created_at: new Date().toISOString(),
          },
          moderator.privateKey,
        );
      expect(
        await send([
          correct('0190a000-0000-7000-8000-000000000005', authorFp),
          correct('0190a000-0000-7000-8000-000000000006', root!.fingerprint),
        ]),
      ).toEqual([
        ['accepted', undefined],
        ['refused', 'author is a local user'],
      ]);
      const profile = () =>
        b.database.db
          .selectFrom('remote_authors')
          .select(['nickname', 'avatar', 'avatar_mime'])
          .where('fingerprint', '=', authorFp)
          .executeTakeFirstOrThrow();
      expect(await profile()).toEqual({ nickname: 'polite', avatar: null, avatar_mime: null });
      await api(
        b,
        '/api/moderation/federated_actions/0190a000-0000-7000-8000-000000000005/reverse/',
        {
          method: 'POST',
          token: b.sysopToken,
          body: {},
        },
      );
      const restored = await profile();
      expect(restored.nickname).toBe('rude name');
      expect(Buffer.from(restored.avatar!)).toEqual(avatar);
      expect(restored.avatar_mime).toBe('image/png');
    });
  });
});
