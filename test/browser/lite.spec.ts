// Axon without JavaScript, in real Chromium with JavaScript turned off (Tor Browser's "Safest"):
// the web client's page offers the lite pages, and a visitor reads the board list, a board, a
// thread across its pages (Markdown rendered, nothing unescaped) and search, with no script on any
// page and nothing loaded from anywhere else.
import { expect, test } from '@playwright/test';
import { PASSWORD, apiCall, baseUrl, registerViaApi, watchContext } from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);

test('a visitor reads boards, a paged thread and search with JavaScript off', async ({
  browser,
}) => {
  const writer = await registerViaApi(baseUrl(), `lite_${unique}`);
  const boards = await apiCall<{
    items: Array<{ id: string; name: string; can_post: boolean; read_access: string }>;
  }>(baseUrl(), '/api/boards/', { token: writer.token });
  const board = boards.items.find((b) => b.can_post && b.read_access === 'public')!;
  const subject = `Lite thread ${unique} <script>alert(1)</script>`;
  const opener = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: writer.token,
    body: { board_id: board.id, subject, body: `**bold words** and litesearch${unique}` },
  });
  // 26 replies: the thread takes two pages of 25.
  for (let i = 1; i <= 26; i++) {
    await apiCall(baseUrl(), '/api/messages/', {
      token: writer.token,
      body: { board_id: board.id, subject: 'Re', body: `reply number ${i}`, parent_id: opener.id },
    });
  }

  const context = await browser.newContext({ javaScriptEnabled: false });
  const watch = await watchContext(context);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('link', { name: 'Read without JavaScript' }).click();
  await expect(page).toHaveURL(/\/lite\/$/);
  const list = await page.request.get('/lite/');
  const csp = list.headers()['content-security-policy']!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('script-src');
  expect(await page.locator('script').count()).toBe(0);

  await page.getByRole('link', { name: board.name }).click();
  await page.getByRole('link', { name: subject }).click();
  await expect(page.getByRole('heading', { name: subject })).toBeVisible();
  await expect(page.locator('article strong', { hasText: 'bold words' })).toBeVisible();
  await expect(page.getByText('reply number 24', { exact: true })).toBeVisible();
  await expect(page.getByText('reply number 25', { exact: true })).toHaveCount(0);
  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page.getByText('reply number 26', { exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Next page' })).toHaveCount(0);

  await page.getByRole('link', { name: 'Search' }).click();
  await page.getByRole('searchbox').fill(`litesearch${unique}`);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.locator('mark', { hasText: `litesearch${unique}` })).toBeVisible();
  await page.getByRole('link', { name: subject }).click();
  await expect(page.getByRole('heading', { name: subject })).toBeVisible();

  const missing = await page.goto('/lite/messages/no-such-message/');
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  expect(watch.foreignRequests).toEqual([]);
  await context.close();
});

test('a member logs in, starts a thread, replies and logs out with JavaScript off', async ({
  browser,
}) => {
  const name = `litew_${unique}`;
  await registerViaApi(baseUrl(), name);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const watch = await watchContext(context);
  const page = await context.newPage();
  await page.goto('/lite/');
  await page.getByRole('link', { name: 'Log in' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'axon_lite')!;
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/lite/' });

  const boards = await apiCall<{
    items: Array<{ name: string; can_post: boolean; read_access: string }>;
  }>(baseUrl(), '/api/boards/');
  const board = boards.items.find((b) => b.read_access === 'public')!;
  await page.getByRole('link', { name: board.name }).click();
  await page.getByLabel('Subject').fill(`Written without script ${unique}`);
  await page.getByLabel('Message (Markdown)').fill('A **plain** form did this.');
  await page.getByRole('button', { name: 'Post' }).click();
  await expect(
    page.getByRole('heading', { name: `Written without script ${unique}` }),
  ).toBeVisible();
  await expect(page.locator('article strong', { hasText: 'plain' })).toBeVisible();
  await page.getByLabel('Message (Markdown)').fill('And a reply, too.');
  await page.getByRole('button', { name: 'Post' }).click();
  await expect(page.getByText('And a reply, too.')).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('link', { name: 'Log in' })).toBeVisible();
  expect((await context.cookies()).find((c) => c.name === 'axon_lite')).toBeUndefined();
  expect(watch.foreignRequests).toEqual([]);
  await context.close();
});
