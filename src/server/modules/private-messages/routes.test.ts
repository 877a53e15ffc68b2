// Private messages through the API on SQLite and PostgreSQL: sending by username and fingerprint,
// inbox/outbox with decryption and unread counts, privacy from third parties, no plaintext at rest,
// tampering, input validation (nothing half-written), per-box deletion and inbox pagination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  registerUsers,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { dumpDatabase } from '../../../test-support/dump.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

interface PmBody {
  id: string;
  from: { fingerprint: string; nickname: string; user_id: string | null; instance: string | null };
  to: {
    fingerprint: string;
    user_id: string | null;
    nickname: string | null;
    instance: string | null;
  };
  delivery: { state: string; error: string | null } | null;
  subject: string;
  body: string;
  body_html: string;
  created_at: string;
  read_at: string | null;
  signature_valid: boolean;
}

interface BoxBody {
  items: PmBody[];
  next_cursor: string | null;
  unread: number;
}

describe.each(DIALECTS)('private messages API on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let bobFingerprint: string;
  let aliceFingerprint: string;
  /** Unique subjects and bodies sent, to look for in the database dump. */
  const plaintexts: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [alice, bob, carol] = await registerUsers(t, ['alice', 'bob', 'carol']);
    bobFingerprint = (await t.ctx.accounts.getUserByUsername('bob')).fingerprint;
    aliceFingerprint = (await t.ctx.accounts.getUserByUsername('alice')).fingerprint;
  });
  afterAll(() => t.close());

  const send = (token: string | null, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: token === null ? {} : bearer(token),
      payload,
    });
  const box = async (token: string, query = ''): Promise<BoxBody> => {
    const res = await t.app.inject({
      url: `/api/private_messages/${query === '' ? '' : `?${query}`}`,
      headers: bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as BoxBody;
  };
  const read = (token: string, id: string) =>
    t.app.inject({ url: `/api/private_messages/${id}/`, headers: bearer(token) });
  const remove = (token: string, id: string) =>
    t.app.inject({ method: 'DELETE', url: `/api/private_messages/${id}/`, headers: bearer(token) });
  const row = (id: string) =>
    t.ctx.database.db
      .selectFrom('private_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  const rowCount = async () =>
    Number(
      (
        await t.ctx.database.db
          .selectFrom('private_messages')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** Sends with a fresh unique subject and body; returns the created message. */
  let sequence = 0;
  const sendUnique = async (from: Account, to: string): Promise<PmBody> => {
    const n = ++sequence;
    const subject = `Subj-${dialect}-${n}-quokka${process.pid}`;
    const body = `Body ${dialect} ${n}: the wombat sleeps at midnight ${process.pid}`;
    plaintexts.push(subject, body);
    const res = await send(from.token, { to, subject, body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data as PmBody;
  };

  let first: PmBody;

  it('sends by username; the recipient reads it decrypted and it is marked read', async () => {
    first = await sendUnique(alice, 'bob');
    const subject = plaintexts.at(-2)!;
    const body = plaintexts.at(-1)!;
    expect(first).toMatchObject({
      subject,
      body,
      from: { fingerprint: aliceFingerprint, nickname: 'alice', user_id: alice.id },
      to: { fingerprint: bobFingerprint, user_id: bob.id },
      read_at: null,
      signature_valid: true,
    });

    const inbox = await box(bob.token);
    expect(inbox.unread).toBe(1);
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({ id: first.id, subject, body, read_at: null });
    expect(inbox.items[0]!.body_html).toContain('wombat');
    expect(inbox.next_cursor).toBeNull();

    // The sender's outbox holds it; the sender opening it does not mark it read.
    const outbox = await box(alice.token, 'box=outbox');
    expect(outbox.items.map((m) => m.id)).toEqual([first.id]);
    expect(outbox.items[0]).toMatchObject({ subject, body });
    const bySender = await read(alice.token, first.id);
    expect(bySender.statusCode).toBe(200);
    expect(bySender.json().data).toMatchObject({ subject, body, read_at: null });
    expect((await box(alice.token)).items).toEqual([]);
    expect((await box(bob.token)).unread).toBe(1);

    const opened = await read(bob.token, first.id);
    expect(opened.statusCode).toBe(200);
    const data = opened.json().data as PmBody;
    expect(data).toMatchObject({ id: first.id, subject, body, signature_valid: true });
    expect(data.read_at).not.toBeNull();
    expect(Math.abs(new Date(data.read_at!).getTime() - Date.now())).toBeLessThan(60_000);
    expect(Number((await row(first.id))!.read_at)).toBe(new Date(data.read_at!).getTime());
    expect((await box(bob.token)).unread).toBe(0);

    // A second read keeps the first read time.
    const again = (await read(bob.token, first.id)).json().data as PmBody;
    expect(again.read_at).toBe(data.read_at);
  });

  it('sends by key fingerprint, in either case', async () => {
    const pm = await sendUnique(alice, bobFingerprint.toUpperCase());
    expect(pm.to).toEqual({
      fingerprint: bobFingerprint,
      user_id: bob.id,
      nickname: 'bob',
      instance: null,
      avatar_url: null,
    });
    expect(pm.from.instance).toBeNull();
    expect(pm.delivery).toBeNull();
    expect(pm.signature_valid).toBe(true);
    const inbox = await box(bob.token);
    expect(inbox.unread).toBe(1);
    expect(inbox.items.map((m) => m.id)).toEqual([pm.id, first.id]);
    expect(inbox.items[0]).toMatchObject({
      subject: plaintexts.at(-2),
      body: plaintexts.at(-1),
      signature_valid: true,
    });
    expect((await read(bob.token, pm.id)).statusCode).toBe(200);
    expect((await box(bob.token)).unread).toBe(0);
  });

  it('hides a message from a third user: 404 to read or delete, and the row is untouched', async () => {
    const before = await row(first.id);
    const peek = await read(carol.token, first.id);
    expect(peek.statusCode).toBe(404);
    expect(peek.json().error.code).toBe('NOT_FOUND');
    expect(peek.body).not.toContain('wombat');
    const del = await remove(carol.token, first.id);
    expect(del.statusCode).toBe(404);
    expect(await row(first.id)).toEqual(before);
    expect((await box(carol.token)).items).toEqual([]);
    expect((await box(carol.token, 'box=outbox')).items).toEqual([]);
    const unknown = await read(bob.token, '01900000-0000-7000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
  });

  it('stores no plaintext: not in private_messages, not in any table', async () => {
    expect(plaintexts.length).toBeGreaterThanOrEqual(4);
    const rows = await t.ctx.database.db.selectFrom('private_messages').selectAll().execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const pmDump = rows.flatMap((r) => Object.values(r).map((v) => String(v))).join('\n');
    const dump = await dumpDatabase(t);
    expect(dump).toContain(first.id);
    expect(dump).toContain('alice');
    for (const text of plaintexts) {
      expect(pmDump.includes(text), `${text} in private_messages`).toBe(false);
      expect(dump.includes(text), `${text} in the database`).toBe(false);
      // Nor its distinctive pieces, nor base64 or hex of it.
      expect(dump.includes(Buffer.from(text).toString('base64'))).toBe(false);
      expect(dump.includes(Buffer.from(text).toString('hex'))).toBe(false);
    }
    expect(dump).not.toContain('quokka');
    expect(dump).not.toContain('wombat');
    // What is stored is the sealed form: base64 ciphertext and an envelope for each party.
    const stored = rows.find((r) => r.id === first.id)!;
    expect(Buffer.from(stored.ciphertext, 'base64').length).toBeGreaterThan(28);
    expect(Object.keys(JSON.parse(stored.envelopes) as object).sort()).toEqual(
      [aliceFingerprint, bobFingerprint].sort(),
    );
  });

  it('shows a tampered message as unreadable, leaves it unread and keeps the box usable', async () => {
    const pm = await sendUnique(alice, 'bob');
    const original = (await row(pm.id))!.ciphertext;
    const bytes = Buffer.from(original, 'base64');
    bytes[20] = bytes[20]! ^ 0x01;
    const setCiphertext = (ciphertext: string) =>
      t.ctx.database.db
        .updateTable('private_messages')
        .set({ ciphertext })
        .where('id', '=', pm.id)
        .execute();
    await setCiphertext(bytes.toString('base64'));
    try {
      for (const token of [bob.token, alice.token]) {
        const res = await read(token, pm.id);
        expect(res.statusCode).toBe(200);
        expect(res.json().data).toMatchObject({
          id: pm.id,
          readable: false,
          subject: '',
          body: '',
        });
      }
      const inbox = await t.app.inject({
        url: '/api/private_messages/?box=inbox',
        headers: bearer(bob.token),
      });
      expect(inbox.statusCode).toBe(200);
      const items = inbox.json().data.items as Array<{ id: string; readable: boolean }>;
      expect(items.find((i) => i.id === pm.id)?.readable).toBe(false);
      expect(items.filter((i) => i.id !== pm.id).every((i) => i.readable)).toBe(true);
      // The failed read by the recipient did not mark it read.
      expect((await row(pm.id))!.read_at).toBeNull();
    } finally {
      // Restored (even if an assertion failed), so later tests see a sound inbox.
      await setCiphertext(original);
    }
    // It opens again: the failure was the tampering and nothing else.
    const res = await read(bob.token, pm.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      subject: plaintexts.at(-2),
      body: plaintexts.at(-1),
      signature_valid: true,
    });
  });

  it('flags a message whose signature does not match as signature_valid false', async () => {
    const pm = await sendUnique(alice, 'bob');
    const other = (await row(first.id))!.signature;
    await t.ctx.database.db
      .updateTable('private_messages')
      .set({ signature: other })
      .where('id', '=', pm.id)
      .execute();
    const res = await read(bob.token, pm.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ subject: plaintexts.at(-2), signature_valid: false });
    expect((await read(bob.token, first.id)).json().data.signature_valid).toBe(true);
  });

  it('refuses bad input and writes nothing', async () => {
    const before = await rowCount();
    const bobUnread = (await box(bob.token)).unread;
    const ok = { to: 'bob', subject: 'hello', body: 'a body' };

    const unknown = await send(alice.token, { ...ok, to: 'nobody_here' });
    expectFieldRefused(unknown, 'body.to');
    const unknownKey = await send(alice.token, { ...ok, to: 'ab'.repeat(32) });
    expectFieldRefused(unknownKey, 'body.to');

    const longSubject = await send(alice.token, { ...ok, subject: 's'.repeat(256) });
    expectFieldRefused(longSubject, 'body.subject');
    const exactSubject = await send(alice.token, { ...ok, subject: 's'.repeat(255) });
    expect(exactSubject.statusCode).toBe(201);

    const longBody = await send(alice.token, { ...ok, body: 'b'.repeat(64 * 1024 + 1) });
    expectFieldRefused(longBody, 'body.body');
    // Bytes, not characters: 16,385 four-byte characters are over the limit.
    const wideBody = await send(alice.token, { ...ok, body: '😀'.repeat(16 * 1024 + 1) });
    expectFieldRefused(wideBody, 'body.body');

    const extra = await send(alice.token, { ...ok, cc: 'carol' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('VALIDATION_ERROR');
    expect(extra.json().error.details.fields[0].field).toBe('body.cc');

    const missing = await send(alice.token, { to: 'bob', subject: 'hello' });
    expectFieldRefused(missing, 'body.body');

    const anonymous = await send(null, ok);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('UNAUTHORIZED');
    const badToken = await send('not-a-token', ok);
    expect(badToken.statusCode).toBe(401);
    expect(
      (await t.app.inject({ url: '/api/private_messages/' })).statusCode,
      'listing without a token',
    ).toBe(401);

    // Only the one valid message (the 255-character subject) was written.
    expect(await rowCount()).toBe(before + 1);
    expect((await box(bob.token)).unread).toBe(bobUnread + 1);
    expect((await read(bob.token, exactSubject.json().data.id as string)).statusCode).toBe(200);
  });

  it('deletes per box: gone for the recipient, kept for the sender, removed once both delete', async () => {
    const pm = await sendUnique(alice, 'bob');
    const unread = (await box(bob.token)).unread;
    expect(unread).toBeGreaterThanOrEqual(1);

    const byRecipient = await remove(bob.token, pm.id);
    expect(byRecipient.statusCode).toBe(200);
    expect(byRecipient.json().data).toEqual({ deleted: pm.id });
    expect((await read(bob.token, pm.id)).statusCode).toBe(404);
    const inbox = await box(bob.token, 'limit=100');
    expect(inbox.items.map((m) => m.id)).not.toContain(pm.id);
    expect(inbox.unread).toBe(unread - 1);
    expect((await remove(bob.token, pm.id)).statusCode).toBe(404);

    const outbox = await box(alice.token, 'box=outbox&limit=100');
    expect(outbox.items.map((m) => m.id)).toContain(pm.id);
    const bySender = await read(alice.token, pm.id);
    expect(bySender.statusCode).toBe(200);
    expect(bySender.json().data.subject).toBe(plaintexts.at(-2));
    expect(Boolean((await row(pm.id))!.recipient_deleted)).toBe(true);
    expect(Boolean((await row(pm.id))!.sender_deleted)).toBe(false);

    expect((await remove(alice.token, pm.id)).statusCode).toBe(200);
    expect(await row(pm.id)).toBeUndefined();
    expect((await read(alice.token, pm.id)).statusCode).toBe(404);
    expect((await box(alice.token, 'box=outbox&limit=100')).items.map((m) => m.id)).not.toContain(
      pm.id,
    );

    // The other order: the sender first, then the recipient.
    const second = await sendUnique(alice, 'bob');
    expect((await remove(alice.token, second.id)).statusCode).toBe(200);
    expect((await read(alice.token, second.id)).statusCode).toBe(404);
    expect((await read(bob.token, second.id)).statusCode).toBe(200);
    // Kept for the recipient, marked as gone from the sender's outbox.
    expect(Boolean((await row(second.id))!.sender_deleted)).toBe(true);
    expect((await remove(bob.token, second.id)).statusCode).toBe(200);
    expect(await row(second.id)).toBeUndefined();
  });

  it('pages the inbox newest first: limit=2 over 5 messages gives each once', async () => {
    expect((await box(carol.token)).items).toEqual([]);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await sendUnique(alice, 'carol')).id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: BoxBody = await box(
        carol.token,
        `limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      sizes.push(page.items.length);
      seen.push(...page.items.map((m) => m.id));
      expect(page.unread).toBe(5);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...sent].reverse());
    expect(new Set(seen).size).toBe(5);

    const bad = await t.app.inject({
      url: '/api/private_messages/?limit=0',
      headers: bearer(carol.token),
    });
    expectFieldRefused(bad, 'querystring.limit');
  });
});
