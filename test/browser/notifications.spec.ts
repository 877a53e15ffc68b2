// Notifications and account changes reaching an open tab live, in a real browser with several
// contexts: a reply, a mention in a watched thread and a private message raise the header's counts
// at once (no reload, no minute-long poll), the notifications page opens them and marks them read;
// a new moderator sees the moderator controls without logging in again; a banned user is told at
// once why and until when.
import { expect, test, type Page } from '@playwright/test';
import {
  MODERATOR,
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  login,
  registerViaApi,
  openAs,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const erin = `erin_${unique}`;
const frank = `frank_${unique}`;
const gina = `gina_${unique}`;

const navLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(name) });

async function publicBoard(token: string): Promise<string> {
  const boards = await apiCall<{
    items: Array<{ id: string; can_post: boolean; read_access: string }>;
  }>(baseUrl(), '/api/boards/', { token });
  return boards.items.find((b) => b.can_post && b.read_access === 'public')!.id;
}

test.beforeAll(async () => {
  await Promise.all([
    registerViaApi(baseUrl(), erin, 'Erin'),
    registerViaApi(baseUrl(), frank, 'Frank'),
    registerViaApi(baseUrl(), gina, 'Gina'),
  ]);
});

test('replies, mentions in a watched thread and letters reach the header live', async ({
  browser,
}) => {
  const e = await login(baseUrl(), erin);
  const board = await publicBoard(e.token);
  const subject = `Lighthouses ${unique}`;
  const thread = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: e.token,
    body: { board_id: board, subject, body: 'Which is your favourite?' },
  });

  const erinTab = await openAs(browser, erin);
  const frankTab = await openAs(browser, frank);
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications');

  // Frank replies through the form; Erin's open tab counts it without a reload.
  await frankTab.page.goto(`/messages/${thread.id}`);
  const reply = frankTab.page.getByRole('form', { name: 'Reply' });
  await reply.getByLabel('Message').fill('The one at the end of the pier.');
  await reply.getByRole('button', { name: 'Post reply' }).click();
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications (1)');

  // Frank's letter raises Erin's message count at once, and tells her on the notifications page.
  const f = await login(baseUrl(), frank);
  await apiCall(baseUrl(), '/api/private_messages/', {
    token: f.token,
    body: { to: erin, subject: 'Lamps', body: 'Shall we visit one?' },
  });
  await expect(navLink(erinTab.page, 'Messages')).toHaveText('Messages (1)');
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications (2)');

  // Frank watches Erin's thread from his tab; Gina's reply mentioning nobody reaches him live.
  await frankTab.page.goto(`/messages/${thread.id}`);
  const watchButton = frankTab.page.getByRole('button', { name: 'Watch this thread' });
  await expect(watchButton).toHaveAttribute('aria-pressed', 'false');
  await watchButton.click();
  await expect(watchButton).toHaveAttribute('aria-pressed', 'true');
  const g = await login(baseUrl(), gina);
  await apiCall(baseUrl(), '/api/messages/', {
    token: g.token,
    body: {
      board_id: board,
      subject: `Re: ${subject}`,
      body: 'Ask @' + erin + ' about the foghorn.',
      parent_id: thread.id,
    },
  });
  await expect(navLink(frankTab.page, 'Notifications')).toHaveText('Notifications (1)');
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications (3)');

  // Erin's notifications page: each says who and what; opening one marks it read.
  await navLink(erinTab.page, 'Notifications').click();
  const list = erinTab.page.getByRole('list', { name: 'Notifications' });
  await expect(list.getByRole('listitem')).toHaveCount(3);
  await expect(list).toContainText(`Frank replied to your post: Re: ${subject}`);
  await expect(list).toContainText('Frank sent you a private message');
  await expect(list).toContainText(`Gina replied to your post: Re: ${subject}`);
  await list.getByRole('link', { name: 'Frank sent you a private message' }).click();
  await expect(erinTab.page).toHaveURL(/\/pm\//);
  await expect(erinTab.page.getByText('Shall we visit one?')).toBeVisible();
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications (2)');
  await expect(navLink(erinTab.page, 'Messages')).toHaveText('Messages');

  await navLink(erinTab.page, 'Notifications').click();
  await erinTab.page.getByRole('button', { name: 'Mark all read' }).click();
  await expect(navLink(erinTab.page, 'Notifications')).toHaveText('Notifications');
  await expect(list.getByText('new', { exact: true })).toHaveCount(0);

  expectClean(erinTab.watch);
  expectClean(frankTab.watch);
});

test('a new moderator sees the moderator controls without logging in again', async ({
  browser,
}) => {
  const tab = await openAs(browser, frank);
  await expect(navLink(tab.page, 'Boards')).toBeVisible();
  await expect(navLink(tab.page, 'Moderation')).toHaveCount(0);
  const sysop = await login(baseUrl(), SYSOP);
  await apiCall(baseUrl(), `/api/admin/users/${frank}/`, {
    token: sysop.token,
    method: 'PATCH',
    body: { is_moderator: true },
  });
  await expect(navLink(tab.page, 'Moderation')).toBeVisible();
  await navLink(tab.page, 'Moderation').click();
  await expect(tab.page).toHaveURL(/\/moderation$/);
  expectClean(tab.watch);
});

test('a banned user is told at once, in the open tab, why and until when', async ({ browser }) => {
  const tab = await openAs(browser, gina);
  await expect(navLink(tab.page, 'Notifications')).toBeVisible();
  const moderator = await login(baseUrl(), MODERATOR);
  await apiCall(baseUrl(), `/api/moderation/users/${gina}/ban/`, {
    token: moderator.token,
    body: { reason: 'Foghorn spam', duration_seconds: 86_400 },
  });
  await expect(tab.page).toHaveURL(/\/login$/);
  const notice = tab.page.getByRole('status').filter({ hasText: 'banned' });
  await expect(notice).toContainText('This account is banned until');
  await expect(notice).toContainText('Reason: Foghorn spam.');
  expectClean(tab.watch);
});
