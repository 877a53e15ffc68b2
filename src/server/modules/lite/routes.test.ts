// The pages without JavaScript on SQLite and PostgreSQL: what a visitor reads (boards with their
// activity, a board's threads, a thread with Markdown rendered and every user value escaped,
// search with its matches marked), the policy that forbids any script, and bad input answered
// with an HTML page that says what is wrong and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBoard,
  postMessage,
  promote,
  registerUser,
  startTestApp,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

describe.each(DIALECTS)('lite pages on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let board: string;
  let hidden: string;
  let thread: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    sysop = await registerUser(t.app, 'sysop');
    await promote(t, 'sysop', 'sysop');
    board = await createBoard(t, sysop.token, { name: 'Lite <b>board</b>' });
    hidden = await createBoard(t, sysop.token, { name: 'Staff only', read_access: 'sysops' });
    thread = await postMessage(t, sysop.token, {
      board_id: board,
      subject: '<img src=x onerror=alert(1)>',
      body: '**strong words** about sunsets',
    });
    await postMessage(t, sysop.token, {
      board_id: board,
      subject: 'Re',
      body: 'a reply <script>alert(2)</script>',
      parent_id: thread,
    });
  });
  afterAll(() => t.close());

  const get = (url: string) => t.app.inject({ url });

  it('lists the boards a visitor may read, with counts, and forbids every script', async () => {
    const res = await get('/lite/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.body).toContain('Lite &lt;b&gt;board&lt;/b&gt;');
    expect(res.body).toMatch(/1 threads · 2\s+posts/);
    expect(res.body).not.toContain('Staff only');
    expect(res.body).not.toMatch(/<script/i);
  });

  it('shows a thread with Markdown rendered and everything else escaped', async () => {
    const list = await get(`/lite/boards/${board}/`);
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(list.body).toContain(`/lite/messages/${thread}/`);
    const page = await get(`/lite/messages/${thread}/`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<strong>strong words</strong>');
    expect(page.body).not.toMatch(/<script|<img src=x/i);
  });

  it('marks the matches of a search', async () => {
    const res = await get('/lite/search/?q=sunsets');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<mark>sunsets</mark>');
    expect((await get('/lite/search/')).body).toContain('<form');
  });

  it('answers what a visitor may not see, and bad input, with a page that says so', async () => {
    const restricted = await get(`/lite/boards/${hidden}/`);
    expect(restricted.statusCode).toBe(404);
    expect(restricted.headers['content-type']).toContain('text/html');
    expect(restricted.body).toContain('Not found');
    const cursor = await get(`/lite/boards/${board}/?cursor=not-a-cursor`);
    expect(cursor.statusCode).toBe(400);
    expect(cursor.body).toContain('cursor');
    const extra = await get('/lite/search/?q=x&nonsense=1');
    expect(extra.statusCode).toBe(400);
    expect(extra.headers['content-security-policy']).toContain("default-src 'none'");
  });
  /** The cookies a response sets, by name: the whole Set-Cookie line. */
  const setCookies = (headers: Record<string, unknown>) =>
    new Map(
      [headers['set-cookie'] ?? []].flat().map((line) => {
        const text = String(line);
        return [text.slice(0, text.indexOf('=')), text] as const;
      }),
    );
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

  it('signs in with a cookie, posts and replies with CSRF tokens, and signs out', async () => {
    const author = await registerUser(t.app, 'writer');
    const login = await get('/lite/login/');
    const formCookie = setCookies(login.headers).get('axon_lite_form')!;
    expect(formCookie).toMatch(/HttpOnly/);
    expect(formCookie).toMatch(/SameSite=Strict/);
    expect(formCookie).toMatch(/Path=\/lite\//);
    const formToken = formCookie.slice('axon_lite_form='.length, formCookie.indexOf(';'));
    expect(login.body).toContain(`value="${formToken}"`);

    // Without the form's token, or with another, nothing happens.
    const forged = await t.app.inject({
      method: 'POST',
      url: '/lite/login/',
      headers: { ...FORM, cookie: `axon_lite_form=${formToken}` },
      payload: form({
        username: author.username,
        password: author.password,
        csrf: 'x',
      }),
    });
    expect(forged.statusCode).toBe(403);
    expect(setCookies(forged.headers).has('axon_lite')).toBe(false);

    const signedIn = await t.app.inject({
      method: 'POST',
      url: '/lite/login/',
      headers: { ...FORM, cookie: `axon_lite_form=${formToken}` },
      payload: form({
        username: author.username,
        password: author.password,
        csrf: formToken,
      }),
    });
    expect(signedIn.statusCode).toBe(303);
    const sessionCookie = setCookies(signedIn.headers).get('axon_lite')!;
    expect(sessionCookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect(sessionCookie).not.toMatch(/Secure/); // the test instance is plain HTTP
    const token = sessionCookie.slice('axon_lite='.length, sessionCookie.indexOf(';'));
    const cookie = `axon_lite=${token}`;
    const boardPage = await t.app.inject({ url: `/lite/boards/${board}/`, headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(boardPage.body)![1]!;

    const before = await t.app.inject({ url: `/lite/boards/${board}/`, headers: { cookie } });
    for (const sent of [undefined, 'wrong']) {
      const refused = await t.app.inject({
        method: 'POST',
        url: `/lite/boards/${board}/`,
        headers: { ...FORM, cookie },
        payload: form({
          subject: 'Forged',
          body: 'never',
          ...(sent === undefined ? {} : { csrf: sent }),
        }),
      });
      expect(refused.statusCode).toBe(403);
    }
    const unchanged = await t.app.inject({ url: `/lite/boards/${board}/`, headers: { cookie } });
    expect(unchanged.body).not.toContain('Forged');
    expect(unchanged.body.length).toBe(before.body.length);

    const posted = await t.app.inject({
      method: 'POST',
      url: `/lite/boards/${board}/`,
      headers: { ...FORM, cookie },
      payload: form({ subject: 'From a form', body: 'posted *without* script', csrf }),
    });
    expect(posted.statusCode).toBe(303);
    const threadUrl = posted.headers.location as string;
    const replied = await t.app.inject({
      method: 'POST',
      url: threadUrl,
      headers: { ...FORM, cookie },
      payload: form({ body: 'and a reply', csrf }),
    });
    expect(replied.statusCode).toBe(303);
    const thread = await get(threadUrl);
    expect(thread.body).toContain('<em>without</em>');
    expect(thread.body).toContain('and a reply');
    const empty = await t.app.inject({
      method: 'POST',
      url: threadUrl,
      headers: { ...FORM, cookie },
      payload: form({ body: '', csrf }),
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('body');

    const out = await t.app.inject({
      method: 'POST',
      url: '/lite/logout/',
      headers: { ...FORM, cookie },
      payload: form({ csrf }),
    });
    expect(out.statusCode).toBe(303);
    expect(setCookies(out.headers).get('axon_lite')).toMatch(/Max-Age=0/);
    // The session has ended everywhere: the API refuses its token too.
    const api = await t.app.inject({
      url: '/api/user/profile/',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.statusCode).toBe(401);
  });
});
