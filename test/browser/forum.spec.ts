// The forum as people who use Discourse or phpBB expect it, in a real browser: deleting an opening
// post leaves a tombstone that keeps the thread and its replies in place; a reply bumps its thread
// and the board list tells how busy each board is.
import { expect, test } from '@playwright/test';
import {
  MODERATOR,
  apiCall,
  baseUrl,
  expectClean,
  login,
  registerViaApi,
  openAs,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const carol = `carol_${unique}`;
const dave = `dave_${unique}`;

/** A thread by carol with one reply by dave, on a public board; the opening post's id. */
async function threadWithReply(subject: string): Promise<string> {
  const [c, d] = await Promise.all([login(baseUrl(), carol), login(baseUrl(), dave)]);
  const boards = await apiCall<{
    items: Array<{ id: string; can_post: boolean; read_access: string }>;
  }>(baseUrl(), '/api/boards/', { token: c.token });
  const board = boards.items.find((b) => b.can_post && b.read_access === 'public')!;
  const opener = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: c.token,
    body: { board_id: board.id, subject, body: 'The opening words' },
  });
  await apiCall(baseUrl(), '/api/messages/', {
    token: d.token,
    body: {
      board_id: board.id,
      subject: `Re: ${subject}`,
      body: 'A reply that stays',
      parent_id: opener.id,
    },
  });
  return opener.id;
}

test.beforeAll(async () => {
  await Promise.all([
    registerViaApi(baseUrl(), carol, 'Carol'),
    registerViaApi(baseUrl(), dave, 'Dave'),
  ]);
});

test('deleting an opening post leaves a tombstone; the thread and its replies stay', async ({
  browser,
}) => {
  const opener = await threadWithReply(`Tombstone ${unique}`);
  const { page, watch } = await openAs(browser, carol);
  await page.goto(`/messages/${opener}`);
  const first = page.getByRole('article').filter({ hasText: 'The opening words' });
  await first.getByRole('button', { name: 'Delete' }).click();
  await expect(first.getByRole('form', { name: 'Delete this message' })).toContainText(
    'the thread and its replies stay',
  );
  await first.getByRole('button', { name: 'Delete for good' }).click();

  await expect(page.getByText('Deleted by its author')).toBeVisible();
  await expect(page.getByText('The opening words')).toHaveCount(0);
  await expect(page.getByText('A reply that stays')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/messages/${opener}$`));

  // The board still lists the thread, marked as deleted, with its reply.
  await page.getByRole('link', { name: 'Back to the board' }).click();
  const item = page.getByRole('listitem').filter({ hasText: `Tombstone ${unique}` });
  await expect(item).toContainText('deleted by its author');
  await expect(item).toContainText('1 reply');
  expectClean(watch);
});

test("a moderator's removal of an opening post says so", async ({ browser }) => {
  const opener = await threadWithReply(`Removed ${unique}`);
  const { page, watch } = await openAs(browser, MODERATOR);
  await page.goto(`/messages/${opener}`);
  const first = page.getByRole('article').filter({ hasText: 'The opening words' });
  await first.getByRole('button', { name: 'Delete' }).click();
  await expect(first.getByRole('form', { name: 'Delete this message' })).toContainText(
    'removed by a moderator',
  );
  await first.getByLabel('Reason (for the modlog)').fill('off-topic');
  await first.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText('Removed by a moderator')).toBeVisible();
  await expect(page.getByText('A reply that stays')).toBeVisible();
  expectClean(watch);
});

test('a reply bumps its thread to the top, and the board list shows the latest post', async ({
  browser,
}) => {
  const opener = await threadWithReply(`Bumped ${unique}`);
  const d = await login(baseUrl(), dave);
  const thread = await apiCall<{ message: { board_id: string } }>(
    baseUrl(),
    `/api/messages/${opener}/`,
    { token: d.token },
  );
  const boardId = thread.message.board_id;
  await apiCall(baseUrl(), '/api/messages/', {
    token: d.token,
    body: { board_id: boardId, subject: `Later ${unique}`, body: 'a newer thread' },
  });
  await apiCall(baseUrl(), '/api/messages/', {
    token: d.token,
    body: { board_id: boardId, subject: `Re: Bumped ${unique}`, body: 'bump', parent_id: opener },
  });

  const { page, watch } = await openAs(browser, carol);
  await page.goto(`/boards/${boardId}`);
  const first = page.getByRole('list', { name: 'Messages' }).getByRole('listitem').first();
  await expect(first).toContainText(`Bumped ${unique}`);
  await expect(first).toContainText('2 replies');
  await expect(first).toContainText('last post by Dave');
  // Times read relative ("just now"), the absolute time on hover.
  const time = first.locator('time').first();
  await expect(time).toHaveText(/just now|minute/);
  await expect(time).toHaveAttribute('title', /\d{4}/);

  await page.goto('/boards');
  const board = page
    .getByRole('listitem')
    .filter({ has: page.locator(`a[href="/boards/${boardId}"]`) });
  await expect(board).toContainText(/\d+ threads · \d+ posts · last post by Dave/);
  await board.getByRole('link', { name: 'last post' }).click();
  await expect(page.getByText('bump', { exact: true })).toBeVisible();
  expectClean(watch);
});
