// Reading the forum as a person does, in a real browser: numbered pages of threads and boards, a
// link to a post opening the page that holds it (scrolled to it, highlighted), unread markers on
// boards and threads with "jump to the first unread post", and a search with filters whose
// snippets show the text as posted, leading to the post.
import { expect, test } from '@playwright/test';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  login,
  registerViaApi,
  screenshot,
  watchContext,
  openAs,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const erin = `erin_${unique}`;
const frank = `frank_${unique}`;
/** The long thread's posts in order: the opening post, then 44 replies (three pages of 20). */
const posts: string[] = [];
let boardId = '';

const post = async (token: string, body: Record<string, unknown>) =>
  (await apiCall<{ id: string }>(baseUrl(), '/api/messages/', { token, body })).id;

test.beforeAll(async () => {
  await Promise.all([
    registerViaApi(baseUrl(), erin, 'Erin'),
    registerViaApi(baseUrl(), frank, 'Frank'),
  ]);
  const sysop = await login(baseUrl(), SYSOP);
  boardId = (
    await apiCall<{ id: string }>(baseUrl(), '/api/boards/', {
      token: sysop.token,
      body: { name: `Reading ${unique}`, post_access: 'members' },
    })
  ).id;
  const f = await login(baseUrl(), frank);
  posts.push(await post(f.token, { board_id: boardId, subject: `Long ${unique}`, body: 'post 1' }));
  for (let i = 2; i <= 45; i++) {
    const body =
      i === 30 ? 'We watched the **sunset** from [the pier](https://pier.example/).' : `post ${i}`;
    posts.push(
      await post(f.token, {
        board_id: boardId,
        parent_id: posts[0],
        subject: `Re: Long ${unique}`,
        body,
      }),
    );
  }
  // Enough other threads for the board's list to take two pages of 25.
  for (let i = 0; i < 25; i++)
    await post(f.token, { board_id: boardId, subject: `Short ${unique} ${i}`, body: 'x' });
});

test('a link to a post opens the page that holds it, scrolled to it and highlighted', async ({
  browser,
}) => {
  const { page, watch } = await openAs(browser, erin);
  await page.goto(`/messages/${posts[29]}`);
  const pages = page.getByRole('navigation', { name: 'Thread pages' }).first();
  await expect(pages.locator('[aria-current="page"]')).toHaveText('2');
  const target = page.locator(`#post-${posts[29]}`);
  await expect(target).toHaveAttribute('aria-current', 'true');
  await expect(target).toBeInViewport();
  await expect(page.getByText('post 21', { exact: true })).toBeVisible();
  await expect(page.getByText('post 1', { exact: true })).toHaveCount(0);

  await pages.getByRole('link', { name: 'Last page, 3' }).click();
  await expect(page.getByText('post 45', { exact: true })).toBeVisible();
  await expect(pages.locator('[aria-current="page"]')).toHaveText('3');
  await pages.getByRole('link', { name: 'First page' }).click();
  await expect(page.getByText('post 1', { exact: true })).toBeVisible();
  await expect(page.getByText('post 21', { exact: true })).toHaveCount(0);
  await screenshot(page, 'thread-pages');
  expectClean(watch);
});

test('unread markers on boards and threads, and a jump to the first unread post', async ({
  browser,
}) => {
  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  // A new reader, who has read nothing here yet.
  const grace = `grace_${unique}`;
  await registerViaApi(baseUrl(), grace, 'Grace');
  await logInThroughForm(page, grace);

  await page.goto('/boards');
  const board = page
    .getByRole('listitem')
    .filter({ has: page.locator(`a[href="/boards/${boardId}"]`) });
  await expect(board).toContainText('26 unread threads');

  await board.getByRole('link', { name: `Reading ${unique}` }).click();
  await expect(page.getByRole('listitem').filter({ hasText: `Short ${unique} 24` })).toContainText(
    '1 new',
  );
  // The long thread's last reply came before the short threads: it is on the second page.
  await page
    .getByRole('navigation', { name: 'Pages', exact: true })
    .getByRole('link', { name: 'Last page, 2' })
    .click();
  const long = page.getByRole('listitem').filter({ hasText: `Long ${unique}` });
  await expect(long.getByRole('link', { name: '45 unread: go to the first' })).toHaveText('45 new');
  await long.getByRole('link', { name: `Long ${unique}` }).click();
  // Page 1 read: 20 posts.
  await expect(page.getByText('post 20', { exact: true })).toBeVisible();

  await page.getByRole('link', { name: 'Back to the board' }).click();
  await expect(page).toHaveURL(new RegExp(`/boards/${boardId}$`));
  await page.goto(`/boards/${boardId}?page=2`);
  await expect(long.getByRole('link', { name: '25 unread: go to the first' })).toBeVisible();
  await page.goto('/boards');
  await expect(board).toContainText('26 unread threads');

  // Coming back to the thread's first page offers the first unread post, on page 2.
  await page.goto(`/messages/${posts[0]}?page=1`);
  const jump = page.getByRole('link', { name: 'Jump to the first unread post' });
  await expect(jump.locator('..')).toContainText('(page 2)');
  await jump.click();
  await expect(page.locator(`#post-${posts[20]}`)).toHaveAttribute('aria-current', 'true');
  await expect(page.locator(`#post-${posts[20]}`)).toBeInViewport();
  await page
    .getByRole('navigation', { name: 'Thread pages' })
    .first()
    .getByRole('link', {
      name: 'Last page, 3',
    })
    .click();
  await expect(page.getByText('post 45', { exact: true })).toBeVisible();

  // Everything read: the long thread has no marker and the board one thread fewer.
  await page.goto(`/boards/${boardId}?page=2`);
  await expect(long).toBeVisible();
  await expect(long.getByText(/new$/)).toHaveCount(0);
  await page.goto('/boards');
  await expect(board).toContainText('25 unread threads');
  expectClean(watch);
  await context.close();
});

test("a board's threads come in numbered pages", async ({ browser }) => {
  const { page, watch } = await openAs(browser, erin);
  await page.goto(`/boards/${boardId}`);
  const pages = page.getByRole('navigation', { name: 'Pages', exact: true });
  await expect(pages.locator('[aria-current="page"]')).toHaveText('1');
  await pages.getByRole('link', { name: 'Last page, 2' }).click();
  await expect(page).toHaveURL(new RegExp(`/boards/${boardId}\\?page=2$`));
  // The oldest thread by latest post: the short ones came after the long thread's last reply.
  await expect(page.getByRole('list', { name: 'Messages' }).getByRole('listitem')).toHaveCount(1);
  await pages.getByRole('link', { name: 'First page' }).click();
  await expect(page.getByRole('list', { name: 'Messages' }).getByRole('listitem')).toHaveCount(25);
  expectClean(watch);
});

test('search finds by prefix, narrows by board, author and day, and leads to the post', async ({
  browser,
}) => {
  const { page, watch } = await openAs(browser, erin);
  await page.goto('/search');
  await page.getByLabel('Search messages').fill('sun');
  await page.getByLabel('Board').selectOption({ label: `Reading ${unique}` });
  await page.getByLabel('Author (nickname or key)').fill('frank');
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From (day)').fill(today);
  await page.getByLabel('To (day)').fill(today);
  await page.getByRole('button', { name: 'Search' }).click();

  const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText('We watched the sunset from the pier.');
  await expect(results.first().locator('mark')).toHaveText(['sunset']);
  await expect(results.first()).not.toContainText('**');
  await screenshot(page, 'search-filters');

  // Nothing by another author.
  await page.getByLabel('Author (nickname or key)').fill('erin');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('Nothing matches “sun”.')).toBeVisible();
  await page.getByLabel('Author (nickname or key)').fill('');
  await page.getByRole('button', { name: 'Search' }).click();

  // The hit's first link is its subject (the author's name links to their profile).
  await results.first().getByRole('link').first().click();
  await expect(page.locator(`#post-${posts[29]}`)).toHaveAttribute('aria-current', 'true');
  await expect(page.locator(`#post-${posts[29]}`)).toBeInViewport();
  expectClean(watch);
});
