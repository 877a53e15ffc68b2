// Remote authors between real instances on loopback, A (SQLite) – B (PostgreSQL) – C (SQLite),
// where A and C are not peers: an author of A is shown on C as nickname@A (the origin B vouches
// for), not nickname@B; their signed profile (nickname, avatar) is readable on B and C as a remote
// author's, never as a local user's.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import { gradientPng } from './browser/images.js';
import {
  api,
  type BoardEventJson,
  type Chain,
  type Instance,
  registerOn,
  shareBoard,
  startChain,
  waitForEvents,
} from '../src/test-support/federation.js';

interface ThreadJson {
  message: {
    author: {
      nickname: string;
      user_id: string | null;
      instance: string | null;
      avatar_url?: string | null;
    };
    signature_valid: boolean;
  };
}

describe('remote authors across a chain of three instances', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let boards: Record<string, string>;
  let alice: string;
  let aliceFingerprint: string;
  const seen: Record<string, string> = { a: '0', b: '0', c: '0' };

  let chain: Chain | undefined;
  beforeAll(async () => {
    chain = await startChain('authors');
    ({ a, b, c, boards } = chain);
    alice = await registerOn(a, 'alice');
    ({ fingerprint: aliceFingerprint } = await api<{ fingerprint: string }>(
      a,
      '/api/user/profile/',
      { token: alice },
    ));
  });
  afterAll(() => chain?.close());

  const post = (subject: string) =>
    api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject, body: `${subject}.` },
    });

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

  it('shows an author of A on C as nickname@A although the message came through B', async () => {
    const { id } = await post('from the origin');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      const thread = await api<ThreadJson>(instance, `/api/messages/${id}/`);
      expect(thread.message.author).toMatchObject({
        nickname: `alice@${a.identity.nickname}`,
        user_id: null,
        instance: a.identity.nickname,
      });
      expect(thread.message.signature_valid).toBe(true);
    }
    // On A she is local: no instance.
    const home = await api<ThreadJson>(a, `/api/messages/${id}/`);
    expect(home.message.author).toMatchObject({ nickname: 'alice', instance: null });
    // B vouched for the origin beside the object; the object itself is byte-exact.
    const logged = async (instance: Instance) =>
      instance.database.db
        .selectFrom('federation_log')
        .select(['object', 'origin'])
        .where('object_id', '=', id)
        .executeTakeFirstOrThrow();
    const [onA, onB, onC] = await Promise.all([logged(a), logged(b), logged(c)]);
    expect(onB.object).toBe(onA.object);
    expect(onC.object).toBe(onA.object);
    expect(onA.origin).toBeNull();
    expect(onC.origin).toBe(a.identity.nickname);
  });

  it("serves the author's signed profile (nickname, avatar) on B and C as a remote author's", async () => {
    const png = gradientPng(16, 16);
    const avatar = await fetch(`${a.url}/api/user/avatar/`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'image/png' },
      body: png,
    });
    expect(avatar.status).toBe(200);
    await api(a, '/api/user/profile/', {
      method: 'PATCH',
      token: alice,
      body: { nickname: 'Alice Liddell' },
    });
    const { id } = await post('after the profile change');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    for (const instance of [b, c]) {
      const profile = await api<{
        nickname: string;
        instance: string;
        display_name: string;
        avatar_url: string | null;
        bio: string | null;
        message_count: number;
      }>(instance, `/api/remote_authors/${aliceFingerprint}/`);
      expect(profile).toMatchObject({
        nickname: 'Alice Liddell',
        instance: a.identity.nickname,
        display_name: `Alice Liddell@${a.identity.nickname}`,
        bio: null,
        message_count: 2,
      });
      expect(profile.avatar_url).not.toBeNull();
      const image = await fetch(`${instance.url}${profile.avatar_url}`);
      expect(image.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await image.arrayBuffer())).toEqual(png);
      const thread = await api<ThreadJson>(instance, `/api/messages/${id}/`);
      expect(thread.message.author.nickname).toBe(`Alice Liddell@${a.identity.nickname}`);
      expect(thread.message.author.avatar_url).toBe(profile.avatar_url);
    }
  });

  it('has no remote-author profile for a local user, an unknown key or a malformed one', async () => {
    const bob = await registerOn(c, 'bob');
    const { fingerprint } = await api<{ fingerprint: string }>(c, '/api/user/profile/', {
      token: bob,
    });
    await expect(api(c, `/api/remote_authors/${fingerprint}/`)).rejects.toThrow(/404/);
    await expect(api(a, `/api/remote_authors/${aliceFingerprint}/`)).rejects.toThrow(/404/);
    await expect(api(c, `/api/remote_authors/${'0'.repeat(64)}/`)).rejects.toThrow(/404/);
    await expect(api(c, `/api/remote_authors/${'0'.repeat(64)}/avatar/`)).rejects.toThrow(/404/);
    await expect(api(c, '/api/remote_authors/not-a-key/')).rejects.toThrow(/400/);
  });

  it('refuses a batch whose routing is malformed, applying none of it', async () => {
    // The test is instance D, a peer B trusts and shares the board with.
    const d = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const dPem = d.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const dFingerprint = fingerprintOf(d.publicKey);
    const now = Date.now();
    await b.database.db
      .insertInto('peers')
      .values({
        fingerprint: dFingerprint,
        pubkey: dPem,
        base_url: 'http://127.0.0.1:9',
        nickname: 'd',
        trusted: true,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const { id } = await post('relayed again by D');
    await Promise.all([next(a, 1), next(b, 1), next(c, 1)]);
    const row = await a.database.db
      .selectFrom('federation_log')
      .select('object')
      .where('object_id', '=', id)
      .executeTakeFirstOrThrow();
    const client = new FederationClient(
      { privateKey: d.privateKey, pubkey: dPem },
      { proxy: undefined, responseLimit: 1024 * 1024, connectTimeoutMs: 10_000, timeoutMs: 30_000 },
    );
    const before = await b.database.db
      .selectFrom('federation_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    for (const routing of [
      { [id]: { origin: `${b.identity.nickname}@x` } },
      { [id]: { origin: 'ok', room: 'no spaces allowed' } },
      { [id]: { origin: 'ok', extra: true } },
    ]) {
      const answer = await client.request(
        { base_url: b.url, pubkey: b.identity.pubkey, transport: 'direct', proxy_url: null },
        {
          method: 'POST',
          path: '/api/federation/inbox/',
          body: { objects: [JSON.parse(row.object) as unknown], routing },
        },
      );
      expect(answer.status).toBe(400);
      expect(answer.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_ERROR');
    }
    const after = await b.database.db
      .selectFrom('federation_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  describe('history older than the sharing', () => {
    /** A board on A with messages and no federation_room_id; B and C share `room` already. */
    async function unsharedHistory(room: string, subjects: string[]) {
      const ids = await shareBoard(room, [
        [b, [a, c]],
        [c, [b]],
      ]);
      const board = await api<{ id: string }>(a, '/api/boards/', {
        method: 'POST',
        token: a.sysopToken,
        body: { name: room, is_realtime: true },
      });
      const posted: string[] = [];
      for (const subject of subjects) {
        const { id } = await api<{ id: string }>(a, '/api/messages/', {
          method: 'POST',
          token: alice,
          body: {
            board_id: board.id,
            subject,
            body: `${subject}.`,
            ...(posted.length === 0 ? {} : { parent_id: posted[0] }),
          },
        });
        posted.push(id);
      }
      return { boardOnA: board.id, onB: ids.b!, onC: ids.c!, posted };
    }

    it('reaches B and C, in order, signed, once, when the board is shared afterwards', async () => {
      const subjects = ['old thread', 'old reply 1', 'old reply 2'];
      const { boardOnA, onB, onC, posted } = await unsharedHistory('history', subjects);
      await api(a, `/api/boards/${boardOnA}/`, {
        method: 'PATCH',
        token: a.sysopToken,
        body: { federation_room_id: 'history', trusted_peers: [b.identity.fingerprint] },
      });
      const [fromB, fromC] = await Promise.all([
        waitForEvents(b, onB, 3),
        waitForEvents(c, onC, 3),
      ]);
      for (const events of [fromB, fromC]) {
        expect(events.map((e) => e.subject)).toEqual(subjects);
        expect(events.map((e) => e.id)).toEqual(posted);
      }
      const onCThread = await api<ThreadJson & { thread: Array<{ signature_valid: boolean }> }>(
        c,
        `/api/messages/${posted[0]}/`,
      );
      expect(onCThread.message.signature_valid).toBe(true);
      expect(onCThread.thread.map((m) => m.signature_valid)).toEqual([true, true, true]);
      expect(onCThread.message.author.instance).toBe(a.identity.nickname);
      // Saving the board again sends nothing twice: a new post is the next event.
      await api(a, `/api/boards/${boardOnA}/`, {
        method: 'PATCH',
        token: a.sysopToken,
        body: { description: 'shared since today' },
      });
      await api(a, '/api/messages/', {
        method: 'POST',
        token: alice,
        body: { board_id: boardOnA, subject: 'new after sharing', body: 'new.' },
      });
      const [after] = await waitForEvents(c, onC, 1, fromC.at(-1)!.cursor);
      expect(after!.subject).toBe('new after sharing');
      const logged = await a.database.db
        .selectFrom('federation_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('room_id', '=', 'history')
        .executeTakeFirstOrThrow();
      expect(Number(logged.n)).toBe(4);
    });

    it('is sent after a restart when A stopped before queueing it', async () => {
      const subjects = ['before the crash 1', 'before the crash 2'];
      const { boardOnA, onB, onC } = await unsharedHistory('crashed', subjects);
      // As a crash right after the board's change committed leaves it: shared, nothing queued.
      await a.stop();
      await a.database.db
        .updateTable('boards')
        .set({
          federation_room_id: 'crashed',
          trusted_peers: JSON.stringify([b.identity.fingerprint]),
        })
        .where('id', '=', boardOnA)
        .execute();
      await a.restart();
      const [fromB, fromC] = await Promise.all([
        waitForEvents(b, onB, 2),
        waitForEvents(c, onC, 2),
      ]);
      expect(fromB.map((e) => e.subject)).toEqual(subjects);
      expect(fromC.map((e) => e.subject)).toEqual(subjects);
    });
  });
});
