// AxonChat as people use it, in real Chromium with two people: who is here follows them in and
// out, long lines wrap on a phone, the log scrolls from the keyboard as a list, and the note about
// an unreachable server goes when it is back.
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  apiCall,
  baseUrl,
  expectClean,
  login,
  registerViaApi,
  type Watch,
  openAs,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const ann = `ann_${unique}`;
const ben = `ben_${unique}`;

async function openChat(
  browser: Browser,
  username: string,
  viewport = { width: 1280, height: 800 },
): Promise<{ page: Page; watch: Watch }> {
  const { page, watch } = await openAs(browser, username, { viewport });
  await page.getByRole('link', { name: 'Chat', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'live' })).toBeVisible();
  return { page, watch };
}

const hereNow = (page: Page) => page.getByRole('complementary', { name: 'Who is here' });

test.beforeAll(async () => {
  await Promise.all([registerViaApi(baseUrl(), ann, 'Ann'), registerViaApi(baseUrl(), ben, 'Ben')]);
});

test('joining lists you in "Here now" at once; leaving takes you off within seconds', async ({
  browser,
}) => {
  const a = await openChat(browser, ann);
  await expect(hereNow(a.page).getByRole('listitem').filter({ hasText: 'Ann' })).toBeVisible();

  const b = await openChat(browser, ben);
  await expect(hereNow(b.page).getByRole('listitem').filter({ hasText: 'Ben' })).toBeVisible();
  await expect(hereNow(a.page).getByRole('listitem').filter({ hasText: 'Ben' })).toBeVisible();

  // Ben closes his tab: Ann's list drops him on its next look, not a minute later.
  await b.page.close({ runBeforeUnload: true });
  await expect(hereNow(a.page).getByRole('listitem').filter({ hasText: 'Ben' })).toHaveCount(0);
  await expect(hereNow(a.page).getByRole('listitem').filter({ hasText: 'Ann' })).toBeVisible();

  // Ann goes elsewhere in the app: she leaves the chat as well.
  const c = await openChat(browser, ben);
  await expect(hereNow(c.page).getByRole('listitem').filter({ hasText: 'Ann' })).toBeVisible();
  await a.page.getByRole('link', { name: 'Boards', exact: true }).click();
  await expect(hereNow(c.page).getByRole('listitem').filter({ hasText: 'Ann' })).toHaveCount(0);
  expectClean(a.watch);
  expectClean(c.watch);
});

test('at 375 px a long unbroken line wraps and messages get most of the width', async ({
  browser,
}) => {
  const token = (await login(baseUrl(), ben)).token;
  const long = `${'x'.repeat(300)}${unique}`;
  await apiCall(baseUrl(), '/api/chat/post/', { token, body: { text: long } });
  const { page, watch } = await openChat(browser, ann, { width: 375, height: 740 });
  const log = page.getByRole('log', { name: 'Chat messages' });
  const line = log.getByRole('listitem').filter({ hasText: unique });
  await expect(line).toBeVisible();
  const sizes = await log.evaluate((el) => ({
    scroll: el.scrollWidth,
    client: el.clientWidth,
    page: document.documentElement.scrollWidth,
  }));
  expect(sizes.scroll, 'the log scrolls sideways').toBeLessThanOrEqual(sizes.client);
  expect(sizes.page, 'the page scrolls sideways').toBeLessThanOrEqual(375);
  const logBox = (await log.boundingBox())!;
  expect(logBox.width).toBeGreaterThan(375 * 0.8);
  // Beside the time and the name, the text still takes most of the line.
  const textBox = (await line.locator('.md').boundingBox())!;
  expect(textBox.width).toBeGreaterThan(logBox.width * 0.55);
  expectClean(watch);
});

test('the chat log is a list that scrolls from the keyboard', async ({ browser }) => {
  const token = (await login(baseUrl(), ben)).token;
  for (let i = 0; i < 40; i++)
    await apiCall(baseUrl(), '/api/chat/post/', { token, body: { text: `line ${i} ${unique}` } });
  const { page, watch } = await openChat(browser, ann);
  const log = page.getByRole('log', { name: 'Chat messages' });
  await expect(log.getByRole('list').getByRole('listitem').last()).toContainText(
    `line 39 ${unique}`,
  );
  await log.focus();
  await expect(log).toBeFocused();
  await page.keyboard.press('Home');
  await expect.poll(() => log.evaluate((el) => el.scrollTop)).toBe(0);
  await page.keyboard.press('End');
  await expect.poll(() => log.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  expectClean(watch);
});

test('the "cannot reach the server" note goes when the connection is back', async ({ browser }) => {
  const { page, watch } = await openChat(browser, ann);
  await page.context().setOffline(true);
  await page.getByLabel('Message', { exact: true }).fill(`offline ${unique}`);
  await page.getByRole('button', { name: 'Send' }).click();
  const note = page.getByRole('alert').filter({ hasText: 'Cannot reach the server' });
  await expect(note.first()).toBeVisible();

  await page.context().setOffline(false);
  // Someone speaks: the chat is reached again, and the note is gone.
  const token = (await login(baseUrl(), ben)).token;
  await apiCall(baseUrl(), '/api/chat/post/', { token, body: { text: `back ${unique}` } });
  await expect(page.getByRole('log').getByText(`back ${unique}`)).toBeVisible();
  await expect(note).toHaveCount(0);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('log').getByText(`offline ${unique}`)).toBeVisible();
  expectClean(watch);
});
