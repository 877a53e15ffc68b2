// Search on SQLite (FTS5) and PostgreSQL (tsvector) through one API: ranking, highlighted
// snippets, paging, access levels, ignore lists and bans, and hostile query text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  createBoard,
  registerCast,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { searchTerms } from './search.js';
import { plainText, snippetOf } from './snippets.js';

interface Hit {
  message: { id: string; subject: string; board_id: string };
  rank: number;
  subject_highlighted: Array<{ text: string; match: boolean }>;
  snippet: Array<{ text: string; match: boolean }>;
}

describe('query words and highlights', () => {
  it('keeps only letters and digits of a query', () => {
    expect(searchTerms('Pineapple "OR" NEAR(x, y) -- ; DROP')).toEqual([
      'pineapple',
      'or',
      'near',
      'x',
      'y',
      'drop',
    ]);
    expect(searchTerms('!!! ***')).toEqual([]);
    expect(searchTerms('Größe café')).toEqual(['größe', 'café']);
  });

  it('shows Markdown as its rendered text', () => {
    expect(plainText('**Bold** and [a link](https://x.example/) &amp; `code <b>`\n\n> quote')).toBe(
      'Bold and a link &amp; code <b> quote',
    );
  });

  it('cuts a snippet around the first match and marks words that start with a term', () => {
    const body = `${'filler '.repeat(40)}the **sunset** was red, a Sunny day ${'more '.repeat(40)}`;
    const pieces = snippetOf(body, ['sun']);
    expect(pieces.filter((p) => p.match).map((p) => p.text)).toEqual(['sunset', 'Sunny']);
    const text = pieces.map((p) => p.text).join('');
    expect(text.startsWith('… filler')).toBe(true);
    expect(text.endsWith(' …')).toBe(true);
    expect(text).not.toContain('**');
  });
});

describe.each(DIALECTS)('search on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let general: string;
  let hidden: string;
  const ids: Record<string, string> = {};

  const post = async (
    key: string,
    token: string,
    board_id: string,
    subject: string,
    body: string,
  ) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(token),
      payload: { board_id, subject, body },
    });
    expect(res.statusCode).toBe(201);
    ids[key] = res.json().data.id;
  };

  beforeAll(async () => {
    t = await startTestApp(dialect);
    ({ sysop, alice, bob } = await registerCast(t));
    const board = (payload: Record<string, unknown>) => createBoard(t, sysop.token, payload);
    general = await board({ name: 'General' });
    hidden = await board({ name: 'Hidden', read_access: 'moderators' });
    await post(
      'strong',
      alice.token,
      general,
      'Pineapple pizza',
      'Pineapple on pizza: I say pineapple, always pineapple.',
    );
    await post(
      'weak',
      bob.token,
      general,
      'Lunch',
      'Somebody mentioned pineapple once, in passing, among many other words about lunch.',
    );
    await post('other', bob.token, general, 'Unrelated', 'Nothing to see here at all.');
    await post('secret', sysop.token, hidden, 'Pineapple plans', 'The secret pineapple plan.');
  });
  afterAll(() => t.close());

  const search = async (query: string, token?: string) => {
    const res = await t.app.inject({
      url: `/api/search/?${query}`,
      headers: token === undefined ? {} : bearer(token),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().data as { items: Hit[]; next_cursor: string | null };
  };

  it('ranks the better match first and leaves out messages without the word', async () => {
    const { items } = await search('q=pineapple');
    expect(items.map((h) => h.message.id)).toEqual([ids.strong, ids.weak]);
    expect(items[0]!.rank).toBeGreaterThan(items[1]!.rank);
  });

  it('highlights the matched words in subject and snippet', async () => {
    const [hit] = (await search('q=PINEAPPLE')).items;
    expect(hit!.subject_highlighted).toContainEqual({ text: 'Pineapple', match: true });
    expect(hit!.subject_highlighted.map((p) => p.text).join('')).toBe('Pineapple pizza');
    expect(hit!.snippet.filter((p) => p.match).map((p) => p.text.toLowerCase())).toContain(
      'pineapple',
    );
    expect(hit!.snippet.map((p) => p.text).join('')).toContain('on pizza');
  });

  it('requires every word', async () => {
    expect((await search('q=pineapple%20lunch')).items.map((h) => h.message.id)).toEqual([
      ids.weak,
    ]);
    expect((await search('q=pineapple%20zebra')).items).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const first = await search('q=pineapple&limit=1');
    expect(first.items).toHaveLength(1);
    const second = await search(`q=pineapple&limit=1&cursor=${first.next_cursor}`);
    expect(second.items.map((h) => h.message.id)).toEqual([ids.weak]);
    expect(second.next_cursor).toBeNull();
  });

  it('searches only boards the reader may read, and one board when asked', async () => {
    expect((await search('q=secret')).items).toEqual([]);
    expect((await search('q=secret', sysop.token)).items.map((h) => h.message.id)).toEqual([
      ids.secret,
    ]);
    const onlyGeneral = await search(`q=pineapple&board=${general}`, sysop.token);
    expect(onlyGeneral.items.every((h) => h.message.board_id === general)).toBe(true);
    const res = await t.app.inject({ url: `/api/search/?q=secret&board=${hidden}` });
    expect(res.statusCode).toBe(404);
  });

  it("drops ignored authors' messages and banned keys' messages", async () => {
    const bobKey = (await t.ctx.accounts.getUser(bob.id)).fingerprint;
    await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(alice.token),
      payload: { pubkey: bobKey },
    });
    expect((await search('q=pineapple', alice.token)).items.map((h) => h.message.id)).toEqual([
      ids.strong,
    ]);
    expect((await search('q=pineapple', sysop.token)).items).toHaveLength(3);

    const aliceKey = (await t.ctx.accounts.getUser(alice.id)).fingerprint;
    await t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(sysop.token),
      payload: { pubkey: aliceKey, reason: 'test' },
    });
    expect((await search('q=pineapple')).items.map((h) => h.message.id)).toEqual([ids.weak]);
    await t.app.inject({
      method: 'DELETE',
      url: `/api/moderation/banned_pubkeys/${aliceKey}/`,
      headers: bearer(sysop.token),
    });
  });

  it('forgets deleted messages', async () => {
    await t.app.inject({
      method: 'DELETE',
      url: `/api/messages/${ids.other}/`,
      headers: bearer(bob.token),
    });
    expect((await search('q=unrelated')).items).toEqual([]);
  });

  it('matches words by prefix and snippets the rendered text, matches marked', async () => {
    await post(
      'sunset',
      alice.token,
      general,
      'Evening',
      'We watched the **sunset** from [the pier](https://pier.example/), then went home.',
    );
    const { items } = await search('q=sun');
    expect(items.map((h) => h.message.id)).toEqual([ids.sunset]);
    const snippet = items[0]!.snippet;
    expect(snippet.map((p) => p.text).join('')).toBe(
      'We watched the sunset from the pier, then went home.',
    );
    expect(snippet.filter((p) => p.match).map((p) => p.text)).toEqual(['sunset']);
  });

  it('narrows by author, nickname or key, and by days', async () => {
    await post('dated', bob.token, general, 'Kiwi notes', 'kiwi season');
    await post('dated2', alice.token, general, 'Kiwi more', 'kiwi again');
    const hitIds = async (query: string) =>
      (await search(`q=kiwi&${query}`)).items.map((h) => h.message.id).sort();
    expect(
      await hitIds(`author=${(await t.ctx.accounts.getUser(bob.id)).nickname.toUpperCase()}`),
    ).toEqual([ids.dated]);
    const aliceKey = (await t.ctx.accounts.getUser(alice.id)).fingerprint;
    expect(await hitIds(`author=${aliceKey}`)).toEqual([ids.dated2]);
    expect(await hitIds('author=nobody')).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await hitIds(`from=${today}&to=${today}`)).toEqual([ids.dated, ids.dated2].sort());
    expect(await hitIds('to=2001-01-01')).toEqual([]);
    expect(await hitIds('from=2999-01-01')).toEqual([]);
  });

  it('treats query syntax as words and refuses a missing or oversized query', async () => {
    for (const q of [
      'pineapple" OR "x',
      'NEAR(pineapple',
      "pineapple' & !",
      '*',
      'subject:pineapple',
      '!!!',
    ]) {
      const res = await t.app.inject({ url: `/api/search/?q=${encodeURIComponent(q)}` });
      expect(res.statusCode, q).toBe(200);
    }
    expect((await search(`q=${encodeURIComponent('!!!')}`)).items).toEqual([]);
    for (const [query, field] of [
      ['', 'querystring.q'],
      ['q=', 'querystring.q'],
      [`q=${'a'.repeat(201)}`, 'querystring.q'],
      ['q=x&limit=51', 'querystring.limit'],
      ['q=x&cursor=bad', 'query.cursor'],
      ['q=x&from=2024-02-30', 'querystring.from'],
      ['q=x&to=yesterday', 'querystring.to'],
      ['q=x&from=2024-05-02&to=2024-05-01', 'query.to'],
      ['q=x&author=', 'querystring.author'],
    ]) {
      const res = await t.app.inject({ url: `/api/search/?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.details.fields[0].field).toBe(field);
    }
  });
});
