// Hostile text renders inert: the XSS corpus (hand-written vectors and the naughty-strings list)
// posted as message subjects and bodies, nicknames, private-message subjects and chat lines, then
// looked at in every screen that shows them. Nothing may open a dialog, run, break the CSP, load
// from elsewhere or leave an element or attribute that could run.
import { expect, test, type Page } from '@playwright/test';
import { assertInertHtml } from '../../src/test-support/inert-html.js';
import { XSS_PAYLOADS } from '../../src/test-support/xss-corpus.js';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  login,
  logInThroughForm,
  registerViaApi,
  screenshot,
  watchContext,
} from './support.js';

const CONTROL = /\p{Cc}|\p{Cf}/gu;
const unique = Date.now().toString(36);
const HAND_WRITTEN = XSS_PAYLOADS.slice(0, XSS_PAYLOADS.length - 485);
const NAUGHTY = XSS_PAYLOADS.slice(HAND_WRITTEN.length);

const asSubject = (payload: string) => payload.replace(CONTROL, '').trim().slice(0, 255);
const asBody = (payload: string) =>
  payload.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');

/** Everything in the page that could run: checked after each screen renders. */
async function expectInert(page: Page) {
  const found = await page.evaluate(() => {
    const problems: string[] = [];
    const scripts = [...document.querySelectorAll('script')];
    if (scripts.length !== 1 || !scripts[0]!.src.includes('/assets/')) {
      problems.push(`scripts: ${scripts.map((s) => s.outerHTML).join(' ')}`);
    }
    for (const element of document.querySelectorAll('*')) {
      for (const attribute of element.attributes) {
        const value = attribute.value.trim().toLowerCase();
        if (attribute.name.toLowerCase().startsWith('on'))
          problems.push(`${attribute.name} on <${element.tagName}>`);
        if (
          /^(javascript|vbscript|data):/.test(value) &&
          ['href', 'src', 'action', 'formaction', 'data'].includes(attribute.name)
        ) {
          problems.push(`${attribute.name}=${attribute.value}`);
        }
      }
    }
    const dangerous = document.querySelectorAll(
      'iframe, object, embed, base, meta[http-equiv], style, link:not([rel="stylesheet"]):not([rel="icon"])',
    );
    for (const element of dangerous) problems.push(element.outerHTML.slice(0, 120));
    return { problems, markdown: [...document.querySelectorAll('.md')].map((e) => e.innerHTML) };
  });
  expect(found.problems).toEqual([]);
  for (const html of found.markdown) assertInertHtml(html);
}

test('the XSS corpus renders inert in boards, threads, search, nicknames, private messages and chat', async ({
  browser,
}) => {
  const base = baseUrl();
  const sysop = await login(base, SYSOP);
  const board = await apiCall<{ id: string }>(base, '/api/boards/', {
    token: sysop.token,
    body: { name: `Naughty ${unique}`, read_access: 'public', post_access: 'members' },
  });
  // Authors whose nicknames are payloads.
  const nicknames = HAND_WRITTEN.map(asSubject)
    .filter((p) => p.length > 0 && p.length <= 50)
    .slice(0, 4);
  const authors: { token: string }[] = [];
  for (const [i, nickname] of nicknames.entries()) {
    authors.push(await registerViaApi(base, `xss${i}_${unique}`, nickname));
  }
  await registerViaApi(base, `reader_${unique}`, 'Reader');
  // Two threads whose replies carry the payloads, so one page shows many of them rendered.
  const post = (i: number, subject: string, body: string, parentId?: string) =>
    apiCall<{ id: string }>(base, '/api/messages/', {
      token: authors[i % authors.length]!.token,
      body: {
        board_id: board.id,
        subject,
        body,
        ...(parentId === undefined ? {} : { parent_id: parentId }),
      },
    });
  const threads: string[] = [];
  const handThread = (await post(0, 'Hand-written vectors', HAND_WRITTEN[0]!)).id;
  threads.push(handThread);
  for (const [i, payload] of HAND_WRITTEN.entries()) {
    await post(
      i,
      asSubject(payload) || 'empty',
      asBody(payload).trim() === '' ? 'empty' : asBody(payload),
      handThread,
    );
  }
  // The naughty strings, 25 to a body, each group's first string as the subject.
  const naughtyThread = (
    await post(1, 'Naughty strings', NAUGHTY.slice(0, 25).map(asBody).join('\n\n'))
  ).id;
  threads.push(naughtyThread);
  for (let i = 25; i < NAUGHTY.length; i += 25) {
    const body = NAUGHTY.slice(i, i + 25)
      .map(asBody)
      .join('\n\n');
    await post(
      i,
      asSubject(NAUGHTY[i]!) || 'naughty',
      body.trim() === '' ? 'empty' : body,
      naughtyThread,
    );
  }
  for (const [i, payload] of HAND_WRITTEN.slice(0, 20).entries()) {
    await apiCall(base, '/api/private_messages/', {
      token: authors[i % authors.length]!.token,
      body: {
        to: `reader_${unique}`,
        subject: asSubject(payload) || 'empty',
        body: asBody(payload) || 'empty',
      },
    });
    await apiCall(base, '/api/chat/post/', {
      token: authors[i % authors.length]!.token,
      body: { text: payload.slice(0, 2000) || 'empty' },
    });
  }

  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await logInThroughForm(page, `reader_${unique}`);

  // The board, every page of it, in both views.
  for (const view of ['', '?view=all']) {
    await page.goto(`/boards/${board.id}${view}`);
    for (;;) {
      await expect(
        page.getByRole('list', { name: 'Messages' }).getByRole('listitem').first(),
      ).toBeVisible();
      await expectInert(page);
      const older = page
        .getByRole('navigation', { name: 'Pages', exact: true })
        .getByRole('link', { name: 'Next page' });
      if ((await older.count()) === 0) break;
      await older.click();
    }
  }
  await page.goto(`/boards/${board.id}`);
  await screenshot(page, 'xss-board');

  // Both threads, every payload rendered.
  for (const id of threads) {
    await page.goto(`/messages/${id}`);
    await expect(page.getByRole('list', { name: 'Thread' }).getByRole('article')).not.toHaveCount(
      1,
    );
    await expectInert(page);
  }
  await screenshot(page, 'xss-thread');

  // Search hits (highlighted pieces).
  for (const q of ['script', 'alert', 'img onerror', 'javascript']) {
    await page.goto(`/search?q=${encodeURIComponent(q)}`);
    await expect(
      page.getByRole('list', { name: 'Results' }).getByRole('listitem').first(),
    ).toBeVisible();
    await expectInert(page);
  }

  // Private messages: the conversations, the inbox and each message.
  await page.goto('/pm');
  await expect(
    page.getByRole('list', { name: 'Conversations' }).getByRole('listitem'),
  ).not.toHaveCount(0);
  await expectInert(page);
  await page.goto('/pm?box=inbox');
  await expect(page.getByRole('list', { name: 'Inbox' }).getByRole('listitem')).toHaveCount(20);
  await expectInert(page);
  const pmLinks = await page
    .getByRole('list', { name: 'Inbox' })
    .getByRole('link')
    .evaluateAll((links) => links.map((l) => (l as HTMLAnchorElement).pathname));
  // Each letter, and once the conversation the sender's name leads to (all its letters at once).
  const conversationLinks = pmLinks.filter((path) => path.startsWith('/pm/with/'));
  for (const path of [
    ...pmLinks.filter((p) => !p.startsWith('/pm/with/')),
    ...conversationLinks.slice(0, 1),
  ]) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expectInert(page);
  }

  // Chat, where nicknames and lines meet.
  await page.goto('/chat');
  await expect(
    page.getByRole('log', { name: 'Chat messages' }).getByRole('listitem'),
  ).not.toHaveCount(0);
  await expectInert(page);
  await screenshot(page, 'xss-chat');

  expectClean(watch);
});
