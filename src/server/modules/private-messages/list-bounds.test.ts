// Lists of large items stop before a byte bound and page with a cursor: a box of 60 KB private
// messages, on SQLite and PostgreSQL. Before the bound a page of 100 such items built (decrypted,
// rendered) and sent several MiB. Every other list pages through the same toPage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_PAGE_BYTES } from '../../http/pagination.js';
import {
  bearer,
  registerUser,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

const BIG = 60_000;

describe.each(DIALECTS)('byte-bounded list pages on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    alice = await registerUser(t.app, 'alice');
    bob = await registerUser(t.app, 'bob');
  });
  afterAll(() => t.close());

  /** Every item of a list, page by page; checks each answer's size on the way. */
  async function everyItem(url: string, token: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const res = await t.app.inject({
        url: `${url}${sep}limit=100${cursor === null ? '' : `&cursor=${cursor}`}`,
        headers: bearer(token),
      });
      expect(res.statusCode, res.body).toBe(200);
      // One item may pass the bound alone; past the first, a page stops before it.
      expect(res.rawPayload.length).toBeLessThan(LIST_PAGE_BYTES + 512 * 1024);
      const data = res.json().data as { items: Array<{ id: string }>; next_cursor: string | null };
      ids.push(...data.items.map((i) => i.id));
      cursor = data.next_cursor;
      pages++;
    } while (cursor !== null);
    return { ids, pages };
  }

  it('pages a box of large private messages under the bound, each message once', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/private_messages/',
        headers: bearer(alice.token),
        payload: { to: 'bob', subject: `big ${i}`, body: `${i}`.repeat(BIG) },
      });
      expect(res.statusCode, res.body).toBe(201);
      sent.push(res.json().data.id as string);
    }
    const { ids, pages } = await everyItem('/api/private_messages/', bob.token);
    expect(pages).toBeGreaterThan(1);
    expect([...ids].sort()).toEqual([...sent].sort());
  });
});
