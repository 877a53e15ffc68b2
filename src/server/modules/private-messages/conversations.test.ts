// Private messages as conversations, on SQLite and PostgreSQL: letters grouped by the other party's
// key with the newest letter and unread count, one conversation in order (reading it marks it
// read), replies that name the letter they answer (sealed, never in clear), parties' names and
// avatars, and bad input refused with nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  countRows,
  registerUsers,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { dumpDatabase } from '../../../test-support/dump.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082',
  'hex',
);

interface Party {
  fingerprint: string;
  nickname: string | null;
  user_id: string | null;
  instance: string | null;
  avatar_url: string | null;
}
interface Letter {
  id: string;
  from: Party;
  to: Party;
  subject: string;
  body: string;
  reply_to: string | null;
  read_at: string | null;
}
interface ConversationList {
  items: Array<{ with: Party; last_message: Letter; unread: number }>;
  next_cursor: string | null;
  unread: number;
}

describe.each(DIALECTS)('private-message conversations on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let aliceKey: string;
  let bobKey: string;
  let carolKey: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [alice, bob, carol] = await registerUsers(t, ['alice', 'bob', 'carol']);
    aliceKey = (await t.ctx.accounts.getUserByUsername('alice')).fingerprint;
    bobKey = (await t.ctx.accounts.getUserByUsername('bob')).fingerprint;
    carolKey = (await t.ctx.accounts.getUserByUsername('carol')).fingerprint;
  });
  afterAll(() => t.close());

  const send = async (from: Account, payload: Record<string, unknown>): Promise<Letter> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(from.token),
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data as Letter;
  };
  const conversations = async (who: Account, query = ''): Promise<ConversationList> => {
    const res = await t.app.inject({
      url: `/api/private_messages/conversations/${query}`,
      headers: bearer(who.token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as ConversationList;
  };
  const conversation = (who: Account, key: string, query = '') =>
    t.app.inject({
      url: `/api/private_messages/conversations/${key}/${query}`,
      headers: bearer(who.token),
    });

  it('groups letters by the other person, the latest conversation first', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/api/user/avatar/',
      headers: { ...bearer(bob.token), 'content-type': 'image/png' },
      payload: PNG,
    });
    await send(alice, { to: 'bob', subject: 'Lunch?', body: 'Noon at the usual place?' });
    await send(bob, { to: aliceKey, subject: 'Re: Lunch?', body: 'Yes, see you.' });
    await send(carol, { to: 'alice', subject: 'Hi', body: 'Carol here.' });
    await send(alice, { to: 'bob', subject: 'Bring', body: 'the map' });

    const list = await conversations(alice);
    expect(list.items.map((c) => c.with.nickname)).toEqual(['bob', 'carol']);
    const [withBob, withCarol] = list.items;
    expect(withBob!.with).toMatchObject({ fingerprint: bobKey, user_id: bob.id, instance: null });
    expect(withBob!.with.avatar_url).toMatch(new RegExp(`^/api/users/${bob.id}/avatar/`));
    expect(withBob!.last_message).toMatchObject({ subject: 'Bring', body: 'the map' });
    expect(withBob!.unread).toBe(1);
    expect(withCarol!.with).toMatchObject({ fingerprint: carolKey, avatar_url: null });
    expect(withCarol!.unread).toBe(1);
    expect(list.unread).toBe(2);

    // Bob sees the same conversation from his side, with alice's name.
    const bobs = await conversations(bob);
    expect(bobs.items).toHaveLength(1);
    expect(bobs.items[0]!.with).toMatchObject({ nickname: 'alice', fingerprint: aliceKey });
    expect(bobs.items[0]!.unread).toBe(2);
  });

  it('opens a conversation oldest first and marks what it shows read', async () => {
    const res = await conversation(bob, aliceKey);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json().data as { items: Letter[]; next_cursor: string | null };
    expect(page.items.map((m) => m.subject)).toEqual(['Lunch?', 'Re: Lunch?', 'Bring']);
    expect(page.items[0]!.from).toMatchObject({ nickname: 'alice', user_id: alice.id });
    expect(page.items[1]!.to).toMatchObject({ nickname: 'alice', fingerprint: aliceKey });
    expect(page.next_cursor).toBeNull();
    const received = page.items.filter((m) => m.to.user_id === bob.id);
    expect(received.every((m) => m.read_at !== null)).toBe(true);
    expect((await conversations(bob)).items[0]!.unread).toBe(0);
    // Only the recipient's reading marks a letter read: alice's unread from carol stays.
    expect((await conversations(alice)).unread).toBe(2);
    // A third party's view of it is empty: the letters are not theirs.
    const carols = (await conversation(carol, bobKey)).json().data as { items: Letter[] };
    expect(carols.items).toEqual([]);
  });

  it('pages a long conversation from the newest, each page in order', async () => {
    for (let i = 0; i < 5; i++) await send(carol, { to: 'bob', subject: `n${i}`, body: `#${i}` });
    const first = (await conversation(bob, carolKey, '?limit=2')).json().data as {
      items: Letter[];
      next_cursor: string;
    };
    expect(first.items.map((m) => m.subject)).toEqual(['n3', 'n4']);
    const second = (
      await conversation(bob, carolKey, `?limit=2&cursor=${first.next_cursor}`)
    ).json().data as { items: Letter[]; next_cursor: string | null };
    expect(second.items.map((m) => m.subject)).toEqual(['n1', 'n2']);
    const list = await conversations(carol, '?limit=1');
    expect(list.items).toHaveLength(1);
    expect(list.items[0]!.with.nickname).toBe('bob');
    const rest = await conversations(carol, `?limit=1&cursor=${list.next_cursor}`);
    expect(rest.items.map((c) => c.with.nickname)).toEqual(['alice']);
    expect(rest.next_cursor).toBeNull();
  });

  it('seals what a reply answers with its text', async () => {
    const question = await send(alice, {
      to: 'carol',
      subject: 'Question',
      body: 'Tea or coffee?',
    });
    const answer = await send(carol, {
      to: aliceKey,
      subject: 'Re: Question',
      body: '> Tea or coffee?\n\nTea.',
      reply_to: question.id,
    });
    expect(answer.reply_to).toBe(question.id);
    const seen = (await conversation(alice, carolKey)).json().data as { items: Letter[] };
    expect(seen.items.at(-1)).toMatchObject({ id: answer.id, reply_to: question.id });
    const row = await t.ctx.database.db
      .selectFrom('private_messages')
      .select(['ciphertext', 'envelopes'])
      .where('id', '=', answer.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(question.id);
    expect(await dumpDatabase(t)).not.toContain('Tea or coffee?');
  });

  it('refuses a reply to a letter of another conversation or of nobody, writing nothing', async () => {
    const toBob = await send(alice, { to: 'bob', subject: 'Private', body: 'for bob' });
    const before = await countRows(t, 'private_messages');
    const refuse = async (from: Account, replyTo: string) =>
      expectFieldRefused(
        await t.app.inject({
          method: 'POST',
          url: '/api/private_messages/',
          headers: bearer(from.token),
          payload: { to: 'alice', subject: 's', body: 'b', reply_to: replyTo },
        }),
        'body.reply_to',
      );
    await refuse(carol, toBob.id); // not carol's letter
    await refuse(carol, '0190f0c0-0000-7000-8000-000000000000'); // nobody's
    // Alice's letter to bob is hers, but answers her conversation with bob, not with herself.
    await refuse(alice, toBob.id);
    expect(await countRows(t, 'private_messages')).toBe(before);
    const bad = await conversation(bob, 'alice');
    expect(bad.statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/private_messages/conversations/` })).statusCode).toBe(
      401,
    );
  });
});
