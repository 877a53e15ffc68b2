// Private messages between real instances on loopback: A (SQLite) and B (PostgreSQL), peers of each
// other. Alice on A writes to bob@B and Bob answers; neither database holds a letter's text; a
// letter waits through B's outage and A's restart; B's ignore lists and key bans apply; and B
// refuses, changing nothing, a letter for a user who does not live there, one from an untrusted
// instance, a forged sender signature and a replay.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signing.js';
import type { AxonDatabase } from '../src/server/db/database.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import type { PrivateMessageSchema } from '../src/server/modules/private-messages/schema.js';
import { dumpDatabase } from '../src/test-support/dump.js';
import { insertPeer, signedHeaders, testPeerKey } from '../src/test-support/federation-keys.js';
import {
  api,
  type Instance,
  makePeers,
  registerOn,
  startInstance,
} from '../src/test-support/federation.js';

/** A private message as the API answers it. */
type Pm = z.output<typeof PrivateMessageSchema>;

/** Polls until the check holds: a delivery has no event a test could wait on. */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const unique = (what: string) => `${what} ${randomBytes(8).toString('hex')}`;

describe('private messages between instances', () => {
  let a: Instance;
  let b: Instance;
  let alice: string;
  let bob: string;
  let alicePubkey: string;
  /** Every subject and body written in these tests: none may be in either database. */
  const plaintexts: string[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('a', 'sqlite'), startInstance('b', 'postgres')]);
    await makePeers(a, b);
    [alice, bob] = await Promise.all([registerOn(a, 'alice'), registerOn(b, 'bob')]);
    alicePubkey = (await api<{ pubkey: string }>(a, '/api/user/profile/', { token: alice })).pubkey;
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  async function send(from: Instance, token: string, to: string): Promise<Pm> {
    const subject = unique('subject');
    const body = unique('body');
    plaintexts.push(subject, body);
    return api<Pm>(from, '/api/private_messages/', {
      method: 'POST',
      token,
      body: { to, subject, body },
    });
  }

  const inbox = async (instance: Instance, token: string) =>
    (await api<{ items: Pm[] }>(instance, '/api/private_messages/?box=inbox&limit=100', { token }))
      .items;

  /** Waits until the sender's copy is delivered or refused, and returns it. */
  const settled = (instance: Instance, token: string, id: string) =>
    waitFor(async () => {
      const pm = await api<Pm>(instance, `/api/private_messages/${id}/`, { token });
      return pm.delivery?.state === 'pending' ? undefined : pm;
    });

  const count = async (database: AxonDatabase, table: 'private_messages' | 'pubkeys') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('sends from alice on A to bob@B, and the reply from B reaches alice on A', async () => {
    const sent = await send(a, alice, `bob@${b.identity.nickname}`);
    expect(sent.to).toMatchObject({ nickname: 'bob', instance: b.identity.nickname });
    expect(sent.to.user_id).toBeNull();
    expect(sent.signature_valid).toBe(true);
    expect((await settled(a, alice, sent.id)).delivery).toEqual({
      state: 'delivered',
      error: null,
    });

    const [received] = await inbox(b, bob);
    expect(received!.id).toBe(sent.id);
    const opened = await api<Pm>(b, `/api/private_messages/${sent.id}/`, { token: bob });
    expect(opened).toMatchObject({
      subject: sent.subject,
      body: sent.body,
      readable: true,
      signature_valid: true,
      delivery: null,
    });
    expect(opened.from).toMatchObject({
      nickname: 'alice',
      user_id: null,
      instance: a.identity.nickname,
    });

    // The reply, addressed as the web client's Reply does: the sender's key at its instance.
    const reply = await send(b, bob, `${opened.from.fingerprint}@${opened.from.instance}`);
    expect((await settled(b, bob, reply.id)).delivery?.state).toBe('delivered');
    const back = await api<Pm>(a, `/api/private_messages/${reply.id}/`, { token: alice });
    expect(back).toMatchObject({ subject: reply.subject, body: reply.body, signature_valid: true });
    expect(back.from).toMatchObject({ nickname: 'bob', instance: b.identity.nickname });

    // The instance named by its host (and a username in another case) works as well.
    const byHost = await send(a, alice, `BOB@${new URL(b.url).host}`);
    expect((await settled(a, alice, byHost.id)).delivery?.state).toBe('delivered');
    expect((await inbox(b, bob)).map((m) => m.id)).toContain(byHost.id);
  });

  it('keeps no letter text in either database', async () => {
    expect(plaintexts.length).toBeGreaterThanOrEqual(6);
    for (const instance of [a, b]) {
      const dump = await dumpDatabase({ ctx: { database: instance.database } });
      for (const text of plaintexts) expect(dump.includes(text), text).toBe(false);
      // The sealed rows are there, so the search looked where the letters are.
      expect(await count(instance.database, 'private_messages')).toBeGreaterThanOrEqual(3);
    }
  });

  it('refuses unknown addresses at once, storing nothing', async () => {
    const before = await count(a.database, 'private_messages');
    for (const [to, message] of [
      ['nobody@nowhere', 'no trusted instance "nowhere"'],
      [`nobody@${b.identity.nickname}`, `no user "nobody" on ${b.identity.nickname}`],
      ['@', 'name@instance'],
    ] as const) {
      const res = await fetch(`${a.url}/api/private_messages/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to, subject: 's', body: 'b' }),
      });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.message).toContain(message);
    }
    expect(await count(a.database, 'private_messages')).toBe(before);
  });

  it('delivers a letter written while B was down, after A restarted too', async () => {
    await b.stop();
    // bob's key is in A's cache from the first test: the letter is sealed and waits.
    const waiting = await send(a, alice, `bob@${b.identity.nickname}`);
    expect(waiting.delivery?.state).toBe('pending');
    await a.stop();
    await a.restart();
    const queued = await a.database.db
      .selectFrom('pm_outbox')
      .select('pm_id')
      .where('pm_id', '=', waiting.id)
      .executeTakeFirst();
    expect(queued).toBeDefined();
    await b.restart();
    expect((await settled(a, alice, waiting.id)).delivery?.state).toBe('delivered');
    expect((await inbox(b, bob)).map((m) => m.id)).toContain(waiting.id);
    expect(
      await a.database.db.selectFrom('pm_outbox').selectAll().execute(),
      'the outbox is empty once delivered',
    ).toEqual([]);
  });

  it("applies bob's ignore list on B: the letter is taken but never shows", async () => {
    await api(b, '/api/user/ignored_pubkeys/', {
      method: 'POST',
      token: bob,
      body: { pubkey: alicePubkey },
    });
    const ignored = await send(a, alice, `bob@${b.identity.nickname}`);
    // Delivered, so that ignoring cannot be told from A.
    expect((await settled(a, alice, ignored.id)).delivery?.state).toBe('delivered');
    expect((await inbox(b, bob)).map((m) => m.id)).not.toContain(ignored.id);
    await api(b, `/api/user/ignored_pubkeys/${fingerprintOf(alicePubkey)}/`, {
      method: 'DELETE',
      token: bob,
    });
  });

  it("announces each letter bob sees on his notifications channel on B (every process), not an ignored one's", async () => {
    const { id: bobId } = await b.database.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'bob')
      .executeTakeFirstOrThrow();
    // What B's processes hear: LISTEN on its PostgreSQL, as its own event bridge does.
    const listener = new pg.Client({ connectionString: b.env.DATABASE_URL });
    await listener.connect();
    const heard: string[] = [];
    let wake = () => {};
    listener.on('notification', (n) => {
      const channel = (n.payload ?? '').split('|')[1];
      if (channel === `notifications:${bobId}`) heard.push(channel);
      wake();
    });
    await listener.query('LISTEN axon_events');
    const heardAtLeast = async (n: number) => {
      while (heard.length < n) await new Promise<void>((resolve) => (wake = resolve));
    };
    try {
      const first = await send(a, alice, `bob@${b.identity.nickname}`);
      expect((await settled(a, alice, first.id)).delivery?.state).toBe('delivered');
      await heardAtLeast(1);
      await api(b, '/api/user/ignored_pubkeys/', {
        method: 'POST',
        token: bob,
        body: { pubkey: alicePubkey },
      });
      const ignored = await send(a, alice, `bob@${b.identity.nickname}`);
      expect((await settled(a, alice, ignored.id)).delivery?.state).toBe('delivered');
      await api(b, `/api/user/ignored_pubkeys/${fingerprintOf(alicePubkey)}/`, {
        method: 'DELETE',
        token: bob,
      });
      const third = await send(a, alice, `bob@${b.identity.nickname}`);
      expect((await settled(a, alice, third.id)).delivery?.state).toBe('delivered');
      await heardAtLeast(2);
      // Notifications come in commit order: the ignored letter's would be before the third's.
      expect(heard).toHaveLength(2);
    } finally {
      await listener.end();
    }
  });

  it("applies B's key bans: a banned sender's letter is refused and alice sees why", async () => {
    await api(b, '/api/moderation/banned_pubkeys/', {
      method: 'POST',
      token: b.sysopToken,
      body: { pubkey: alicePubkey, reason: 'spam' },
    });
    const before = await count(b.database, 'private_messages');
    const banned = await send(a, alice, `bob@${b.identity.nickname}`);
    const copy = await settled(a, alice, banned.id);
    expect(copy.delivery?.state).toBe('refused');
    expect(copy.delivery?.error).toContain('PUBKEY_BANNED');
    expect(await count(b.database, 'private_messages')).toBe(before);
    await api(b, `/api/moderation/banned_pubkeys/${fingerprintOf(alicePubkey)}/`, {
      method: 'DELETE',
      token: b.sysopToken,
    });
  });

  describe('attacks on B, over signed HTTP', () => {
    // The test is instance D, which B trusts, and E, which B does not know; "mallory" is a user of D.
    const d = testPeerKey();
    const e = testPeerKey();
    const mallory = testPeerKey();
    let bobFingerprint: string;

    beforeAll(async () => {
      await insertPeer(b.database, d, { base_url: 'http://127.0.0.1:9', trusted: true });
      bobFingerprint = (await api<{ fingerprint: string }>(b, '/api/user/profile/', { token: bob }))
        .fingerprint;
    });

    const options = {
      proxy: undefined,
      responseLimit: 1024 * 1024,
      connectTimeoutMs: 10_000,
      timeoutMs: 30_000,
    };
    const fromD = () => new FederationClient(d, options);
    const bAsPeer = () => ({
      base_url: b.url,
      pubkey: b.identity.pubkey,
      transport: 'direct' as const,
      proxy_url: null,
    });

    /** A letter from mallory to `to`, signed by mallory (its ciphertext is noise: B never opens it). */
    function letter(to: string, overrides: Record<string, unknown> = {}) {
      return signObject(
        {
          type: 'private_message',
          id: uuidv7(),
          from: { pubkey: mallory.pubkey, nickname: 'mallory' },
          to,
          ciphertext: randomBytes(64).toString('base64'),
          envelopes: { [to]: randomBytes(256).toString('base64') },
          created_at: new Date().toISOString(),
          ...overrides,
        },
        mallory.privateKey,
      );
    }

    /** Sends as D and checks the refusal's status and code, and that B stored nothing. */
    async function refused(object: object, status: number, code: string): Promise<void> {
      const before = await Promise.all([
        count(b.database, 'private_messages'),
        count(b.database, 'pubkeys'),
      ]);
      const answer = await fromD().request(bAsPeer(), {
        method: 'POST',
        path: '/api/federation/private_messages/',
        body: object,
      });
      expect(answer.status, answer.body.toString()).toBe(status);
      expect(answer.json<{ error: { code: string } }>().error.code).toBe(code);
      expect(
        await Promise.all([count(b.database, 'private_messages'), count(b.database, 'pubkeys')]),
      ).toEqual(before);
    }

    it('takes a well-formed letter from D, once', async () => {
      const object = letter(bobFingerprint);
      const post = () =>
        fromD().request(bAsPeer(), {
          method: 'POST',
          path: '/api/federation/private_messages/',
          body: object,
        });
      const first = await post();
      expect(first.status, first.body.toString()).toBe(201);
      const before = await count(b.database, 'private_messages');
      // The same letter again, in a new request: answered as a duplicate, nothing added.
      const again = await post();
      expect(again.status).toBe(200);
      expect(again.json<{ data: { status: string } }>().data.status).toBe('duplicate');
      expect(await count(b.database, 'private_messages')).toBe(before);
      const [shown] = await inbox(b, bob);
      expect(shown).toMatchObject({ id: object.id, readable: false, signature_valid: true });
      expect(shown!.from).toMatchObject({
        nickname: 'mallory',
        instance: `peer-${d.fingerprint.slice(0, 6)}`,
      });
    });

    it('refuses a letter for a user who does not live on B', async () => {
      const stranger = testPeerKey().fingerprint;
      await refused(letter(stranger), 404, 'PM_RECIPIENT_NOT_HERE');
    });

    it('refuses a forged sender signature and a changed ciphertext', async () => {
      // Signed by mallory, but claiming to come from alice's key.
      await refused(
        letter(bobFingerprint, { from: { pubkey: alicePubkey, nickname: 'alice' } }),
        400,
        'PM_SIGNATURE_INVALID',
      );
      const tampered = {
        ...letter(bobFingerprint),
        ciphertext: randomBytes(64).toString('base64'),
      };
      await refused(tampered, 400, 'PM_SIGNATURE_INVALID');
      await refused({ ...letter(bobFingerprint), extra: 1 }, 400, 'VALIDATION_ERROR');
    });

    it('refuses a letter from an instance B does not trust', async () => {
      const before = await count(b.database, 'private_messages');
      const answer = await new FederationClient(e, options).request(bAsPeer(), {
        method: 'POST',
        path: '/api/federation/private_messages/',
        body: letter(bobFingerprint),
      });
      expect(answer.status).toBe(403);
      expect(answer.json<{ error: { code: string } }>().error.code).toBe('FEDERATION_UNTRUSTED');
      expect(await count(b.database, 'private_messages')).toBe(before);
    });

    it('refuses a replayed request', async () => {
      const url = new URL('/api/federation/private_messages/', b.url);
      const body = Buffer.from(JSON.stringify(letter(bobFingerprint)));
      const headers = {
        'content-type': 'application/json',
        ...signedHeaders(d, { method: 'POST', pathAndQuery: url.pathname, host: url.host, body }),
      };
      const post = () => fetch(url, { method: 'POST', headers, body });
      expect((await post()).status).toBe(201);
      const before = await count(b.database, 'private_messages');
      const replayed = await post();
      expect(replayed.status).toBe(409);
      expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe(
        'FEDERATION_REPLAY',
      );
      expect(await count(b.database, 'private_messages')).toBe(before);
    });

    it("answers a user's key to a trusted peer only, and 404 for no such user", async () => {
      const key = await fromD().request(bAsPeer(), {
        method: 'GET',
        path: '/api/federation/users/BOB/key/',
      });
      expect(key.status).toBe(200);
      expect(key.json<{ data: { fingerprint: string } }>().data.fingerprint).toBe(bobFingerprint);
      const byFingerprint = await fromD().request(bAsPeer(), {
        method: 'GET',
        path: `/api/federation/users/${bobFingerprint}/key/`,
      });
      expect(byFingerprint.json<{ data: { username: string } }>().data.username).toBe('bob');
      const none = await fromD().request(bAsPeer(), {
        method: 'GET',
        path: '/api/federation/users/nobody/key/',
      });
      expect(none.status).toBe(404);
      const stranger = await new FederationClient(e, options).request(bAsPeer(), {
        method: 'GET',
        path: '/api/federation/users/bob/key/',
      });
      expect(stranger.status).toBe(403);
    });
  });
});
