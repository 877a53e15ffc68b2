// What members do without JavaScript, on SQLite and PostgreSQL: delete their own post, report
// another's, the moderators' queue upholding it, private messages stored sealed (written, read,
// answered, deleted), the chat page that reloads itself and its line form, and the profile; a
// form without its CSRF token, or with another, changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  countRows,
  createBoard,
  postMessage,
  registerCast,
  registerUser,
  promote,
  startTestApp,
  uploadFile,
  type Account,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe.each(DIALECTS)('lite pages for members on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  let bob: Account;
  let board: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const cast = await registerCast(t);
    alice = cast.alice;
    bob = cast.bob;
    await promote(t, 'bob', 'moderator');
    board = await createBoard(t, cast.sysop.token, { name: 'Lite members' });
  });
  afterAll(() => t.close());

  /** Signs in through the login form: the session cookie and the CSRF token of its forms. */
  async function signIn(account: Account) {
    const page = await t.app.inject({ url: '/lite/login/' });
    const line = String([page.headers['set-cookie']].flat()[0]);
    const formCookie = line.slice(0, line.indexOf(';'));
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const res = await t.app.inject({
      method: 'POST',
      url: '/lite/login/',
      headers: { ...FORM, cookie: formCookie },
      payload: form({ username: account.username, password: account.password, csrf }),
    });
    const session = [res.headers['set-cookie']]
      .flat()
      .map(String)
      .find((l) => l.startsWith('axon_lite='))!;
    const cookie = session.slice(0, session.indexOf(';'));
    const home = await t.app.inject({ url: '/lite/', headers: { cookie } });
    const token = /name="csrf" value="([^"]+)"/.exec(home.body)![1]!;
    return {
      cookie,
      csrf: token,
      get: (url: string) => t.app.inject({ url, headers: { cookie } }),
      post: (url: string, fields: Record<string, string>, csrf: string | null = token) =>
        t.app.inject({
          method: 'POST',
          url,
          headers: { ...FORM, cookie },
          payload: form({ ...fields, ...(csrf === null ? {} : { csrf }) }),
        }),
    };
  }

  it('deletes an own post, reports another, and the moderator upholds from the queue', async () => {
    const a = await signIn(alice);
    const b = await signIn(bob);
    const thread = await postMessage(t, bob.token, { board_id: board, subject: 'Bob', body: 'b' });
    const mine = await postMessage(t, alice.token, {
      board_id: board,
      subject: 'Re',
      body: 'alice says something regrettable',
      parent_id: thread,
    });
    const page = await a.get(`/lite/messages/${thread}/`);
    expect(page.body).toContain(`action="/lite/messages/${mine}/delete/"`);
    expect(page.body).toContain(`href="/lite/messages/${thread}/report/"`);

    for (const csrf of [null, 'wrong'])
      expect((await a.post(`/lite/messages/${mine}/delete/`, {}, csrf)).statusCode).toBe(403);
    expect((await a.get(`/lite/messages/${thread}/`)).body).toContain('regrettable');
    const deleted = await a.post(`/lite/messages/${mine}/delete/`, {});
    expect(deleted.statusCode).toBe(303);
    expect(deleted.headers.location).toBe(`/lite/messages/${thread}/#m-${mine}`);
    const after = await a.get(`/lite/messages/${thread}/`);
    expect(after.body).not.toContain('regrettable');
    // Another's post: not hers to delete.
    expect((await a.post(`/lite/messages/${thread}/delete/`, {})).statusCode).toBe(403);

    const reportForm = await a.get(`/lite/messages/${thread}/report/`);
    expect(reportForm.body).toContain('name="reason"');
    expect(
      (await a.post(`/lite/messages/${thread}/report/`, { reason: 'x' }, 'wrong')).statusCode,
    ).toBe(403);
    expect(await countRows(t, 'reports')).toBe(0);
    const reported = await a.post(`/lite/messages/${thread}/report/`, { reason: 'spam, plainly' });
    expect(reported.statusCode).toBe(201);
    expect((await a.post(`/lite/messages/${thread}/report/`, { reason: 'again' })).statusCode).toBe(
      409,
    );

    // Alice is no moderator: the queue is not hers.
    expect((await a.get('/lite/moderation/reports/')).statusCode).toBe(403);
    expect((await a.get('/lite/')).body).not.toContain('/lite/moderation/reports/');
    const queue = await b.get('/lite/moderation/reports/');
    expect(queue.statusCode).toBe(200);
    expect(queue.body).toContain('spam, plainly');
    const reportId = /action="\/lite\/moderation\/reports\/([^/]+)\/resolve\/"/.exec(
      queue.body,
    )![1]!;
    expect(
      (await b.post(`/lite/moderation/reports/${reportId}/resolve/`, { action: 'uphold' }, 'x'))
        .statusCode,
    ).toBe(403);
    const bad = await b.post(`/lite/moderation/reports/${reportId}/resolve/`, { action: 'shrug' });
    expect(bad.statusCode).toBe(400);
    const upheld = await b.post(`/lite/moderation/reports/${reportId}/resolve/`, {
      action: 'uphold',
      delete_message: 'on',
      note: 'thanks',
    });
    expect(upheld.statusCode).toBe(303);
    expect((await b.get('/lite/moderation/reports/')).body).toContain('No open reports.');
    // Upheld with deletion: the opening post is gone (its only reply went before it).
    expect((await a.get(`/lite/messages/${thread}/`)).statusCode).toBe(404);
  });

  it('writes, reads, answers and deletes private messages, sealed in the database', async () => {
    const a = await signIn(alice);
    const b = await signIn(bob);
    const secret = 'the owl flies at midnight';
    const refused = await a.post('/lite/private/write/', { to: 'bob', body: secret }, 'wrong');
    expect(refused.statusCode).toBe(403);
    expect(await countRows(t, 'private_messages')).toBe(0);
    const sent = await a.post('/lite/private/write/', {
      to: 'bob',
      subject: 'Plans',
      body: `**${secret}**`,
    });
    expect(sent.statusCode).toBe(303);
    const rows = await t.ctx.database.db.selectFrom('private_messages').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('midnight');

    const inbox = await b.get('/lite/private/');
    expect(inbox.body).toContain('Inbox (1 unread)');
    expect(inbox.body).toContain('Plans');
    const url = sent.headers.location as string;
    const opened = await b.get(url);
    expect(opened.body).toContain(`<strong>${secret}</strong>`);
    const replyLink = /href="(\/lite\/private\/write\/\?to=[^"]+)"/.exec(opened.body)![1]!;
    const compose = await b.get(replyLink.replaceAll('&amp;', '&'));
    expect(compose.body).toContain('value="Re: Plans"');
    const to = /name="to"[^>]*value="([^"]+)"/.exec(compose.body)![1]!;
    expect(
      (await b.post('/lite/private/write/', { to, subject: 'Re: Plans', body: 'agreed' }))
        .statusCode,
    ).toBe(303);
    expect((await a.get('/lite/private/')).body).toContain('Re: Plans');
    expect((await b.get('/lite/private/?box=outbox')).body).toContain('Re: Plans');
    // Nobody else opens it.
    const carol = await signIn(await registerUser(t.app, 'carol'));
    expect((await carol.get(url)).statusCode).toBe(404);

    expect((await b.post(`${url}delete/`, {}, null)).statusCode).toBe(403);
    expect((await b.post(`${url}delete/`, {})).statusCode).toBe(303);
    expect((await b.get(url)).statusCode).toBe(404);
    expect((await b.get('/lite/private/')).body).not.toContain('>Plans<');
  });

  it("links a private message's file with a media token that opens it for the recipient only", async () => {
    const bytes = Buffer.from('a private file, not for everyone');
    const hash = await uploadFile(t, alice.token, bytes, 'letter.txt');
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: 'bob', subject: 'With a file', body: 'see attached', attachments: [hash] },
    });
    expect(sent.statusCode).toBe(201);
    const b = await signIn(bob);
    const page = await b.get(`/lite/private/${sent.json().data.id}/`);
    const link = new RegExp(`href="(/api/content/stream/${hash}/\\?media_token=[^"]+)"`).exec(
      page.body,
    )![1]!;
    const file = await t.app.inject({ url: link.replaceAll('&amp;', '&') });
    expect(file.statusCode).toBe(200);
    expect(file.body).toBe(bytes.toString());
    // Without the token the file is nobody's to read.
    expect((await t.app.inject({ url: `/api/content/stream/${hash}/` })).statusCode).not.toBe(200);
  });

  it('shows the chat reloading itself, takes a line, and shows and changes the profile', async () => {
    const a = await signIn(alice);
    expect((await t.app.inject({ url: '/lite/chat/' })).statusCode).toBe(401);
    expect((await a.post('/lite/chat/say/', { text: 'forged line' }, 'wrong')).statusCode).toBe(
      403,
    );
    const said = await a.post('/lite/chat/say/', { text: 'hello <b>room</b>' });
    expect(said.statusCode).toBe(303);
    expect(said.headers.location).toBe('/lite/chat/');
    const chat = await a.get('/lite/chat/');
    expect(chat.body).toMatch(/<meta http-equiv="refresh" content="15"/);
    expect(chat.body).toContain('hello &lt;b&gt;room&lt;/b&gt;');
    expect(chat.body).not.toContain('forged line');
    const sayPage = await a.get('/lite/chat/say/');
    expect(sayPage.body).not.toContain('http-equiv="refresh"');
    expect((await a.post('/lite/chat/say/', { text: '   ' })).statusCode).toBe(400);

    const profile = await a.get('/lite/profile/');
    expect(profile.body).toContain('Key fingerprint');
    expect((await a.post('/lite/profile/', { nickname: 'Forged' }, null)).statusCode).toBe(403);
    expect((await a.post('/lite/profile/', { nickname: 'bad@name' })).statusCode).toBe(400);
    expect((await a.post('/lite/profile/', { nickname: 'Alice Lite' })).statusCode).toBe(303);
    const me = await t.app.inject({ url: '/api/user/profile/', headers: bearer(alice.token) });
    expect(me.json().data.nickname).toBe('Alice Lite');
  });
});
