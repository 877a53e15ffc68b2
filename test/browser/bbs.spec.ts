// What people do on Axon, in a real browser against a real server: register, post with an image,
// reply, search, private messages, live chat between two people, drafts that survive an ended
// session, the size check before uploading, and moderation that stops a user at once.
import { expect, test } from '@playwright/test';
import { gradientPng } from './images.js';
import {
  MODERATOR,
  PASSWORD,
  SYSOP,
  baseUrl,
  apiCall,
  expectClean,
  login,
  registerViaApi,
  screenshot,
  openAs,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const alice = `alice_${unique}`;
const bob = `bob_${unique}`;
const word = `zebrafinch${unique}`;
const state: { messageUrl?: string; replyUrl?: string } = {};

let bobRecoveryKey = '';
test.beforeAll(async () => {
  bobRecoveryKey = (await registerViaApi(baseUrl(), bob, 'Bob')).recovery_key;
});

test('a new user registers, posts an image, replies, searches and writes to another user', async ({
  browser,
}) => {
  const { page, watch } = await openAs(browser, null);
  await page.goto('/');
  await expect(page).toHaveURL(/\/boards$/);
  await expect(page.getByRole('link', { name: 'General' })).toBeVisible();
  await page.getByRole('banner').getByRole('link', { name: 'Register' }).click();
  await screenshot(page, 'register');

  await page.getByLabel('Username').fill(alice);
  await page.getByLabel('Nickname').fill('Alice');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Register' }).click();

  // The recovery key is shown once, and the way on needs "I saved it".
  const key = page.getByTestId('recovery-key');
  await expect(key).toBeVisible({ timeout: 120_000 });
  expect((await key.textContent())?.trim().length).toBeGreaterThan(20);
  await screenshot(page, 'recovery-key');
  await expect(page.getByRole('button', { name: 'Continue' })).toBeDisabled();
  await page.getByLabel('I saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByText('Signed in as')).toContainText('Alice');
  await screenshot(page, 'boards');

  // A new thread with an image, shown inline.
  await page.getByRole('link', { name: 'General' }).click();
  await page.getByRole('link', { name: 'New thread' }).click();
  await page.getByLabel('Subject').fill('Sunset over the harbour');
  await page
    .getByLabel('Message', { exact: true })
    .fill(`Look at **this** sunset, a ${word} flew by.`);
  await page.getByLabel(/Attach files/).setInputFiles({
    name: 'sunset.png',
    mimeType: 'image/png',
    buffer: gradientPng(320, 200),
  });
  await expect(page.getByRole('list', { name: 'Attached files' })).toContainText('sunset.png');
  await screenshot(page, 'compose');
  await page.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(page).toHaveURL(/\/messages\//);
  state.messageUrl = new URL(page.url()).pathname;
  const image = page.getByRole('img', { name: 'sunset.png' });
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
  // Through a media token for that image alone: the session token never goes into a URL.
  await expect(image).toHaveAttribute('src', /[?&]media_token=/);
  await expect(image).not.toHaveAttribute('src', /access_token/);
  await expect(page.getByRole('article').first()).toContainText('✔ signed');
  // The download button fetches it with the session, showing progress, and saves the same bytes.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download sunset.png' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('sunset.png');
  const saved = await download.createReadStream();
  const bytes: Buffer[] = [];
  for await (const piece of saved) bytes.push(piece as Buffer);
  expect(Buffer.concat(bytes).equals(gradientPng(320, 200))).toBe(true);
  await expect(page.locator('.md strong')).toHaveText('this');

  // A reply.
  const reply = page.getByRole('form', { name: 'Reply' });
  await reply.getByLabel('Message', { exact: true }).fill('Lovely colours!');
  await reply.getByRole('button', { name: 'Post reply' }).click();
  await expect(page.getByRole('list', { name: 'Thread' }).getByRole('article')).toHaveCount(2);
  await expect(page.getByText('Lovely colours!')).toBeVisible();
  state.replyUrl = new URL(page.url()).pathname;
  await screenshot(page, 'thread');

  // Search finds it, with the word highlighted.
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Search' })
    .click();
  await page.getByLabel('Search messages').fill(word);
  await page.getByLabel('Search messages').press('Enter');
  const results = page.getByRole('list', { name: 'Results' });
  await expect(results.getByRole('link', { name: 'Sunset over the harbour' })).toBeVisible();
  await expect(results.locator('mark')).toHaveText(word);
  await screenshot(page, 'search');
  await results.getByRole('link', { name: 'Sunset over the harbour' }).click();
  await expect(page).toHaveURL(state.messageUrl);

  // A private message to Bob.
  await page.getByRole('link', { name: /Messages/ }).click();
  await expect(page.getByText('No conversations yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Write' }).click();
  await page.getByLabel('To', { exact: true }).fill(bob);
  await page.getByLabel('Subject').fill('Hello Bob');
  await page.getByLabel('Message', { exact: true }).fill('Meet me in *the chat*?');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page).toHaveURL(/\/pm\/[^/]+$/);
  await expect(page.getByRole('heading', { name: 'Hello Bob' })).toBeVisible();

  const other = await openAs(browser, bob);
  await expect(other.page.getByRole('link', { name: /Messages/ })).toContainText('(1)');
  await other.page.getByRole('link', { name: /Messages/ }).click();
  await expect(other.page.getByText('new', { exact: true })).toBeVisible();
  await screenshot(other.page, 'inbox');
  await other.page.getByRole('link', { name: 'Hello Bob' }).click();
  await expect(other.page.locator('.md em')).toHaveText('the chat');
  await expect(other.page.getByText('✔ signed')).toBeVisible();
  await screenshot(other.page, 'private-message');

  // On a phone-sized screen, nothing scrolls sideways.
  for (const { page: p, path } of [
    { page, path: state.messageUrl! },
    { page, path: '/boards' },
    { page, path: `/search?q=${word}` },
    { page: other.page, path: '/pm' },
  ]) {
    await p.setViewportSize({ width: 375, height: 740 });
    await p.goto(path);
    await expect(p.getByRole('main')).toBeVisible();
    await expect(p.locator('main h1')).toBeVisible();
    expect(await p.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(
      375,
    );
  }
  await page.goto(state.messageUrl!);
  await screenshot(page, 'thread-phone');

  expectClean(watch);
  expectClean(other.watch);
});

test('two people chat live: a line appears for the other without a reload', async ({ browser }) => {
  const a = await openAs(browser, alice);
  const b = await openAs(browser, bob);
  for (const { page } of [a, b]) {
    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'live' })).toBeVisible();
  }
  const loadsBefore = await b.page.evaluate(
    () => performance.getEntriesByType('navigation').length,
  );
  await a.page.getByLabel('Message', { exact: true }).fill(`hello from the harbour ${unique}`);
  await a.page.getByLabel('Message', { exact: true }).press('Enter');
  const line = b.page
    .getByRole('log', { name: 'Chat messages' })
    .getByText(`hello from the harbour ${unique}`);
  await expect(line).toBeVisible();
  await expect(b.page.getByRole('log')).toContainText('Alice:');
  expect(await b.page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(
    loadsBefore,
  );

  await b.page.getByLabel('Message', { exact: true }).fill('on my way');
  await b.page.getByLabel('Message', { exact: true }).press('Enter');
  await expect(a.page.getByRole('log').getByText('on my way')).toBeVisible();
  // Both were seen in the room: each sees the other as present.
  await b.page.reload();
  await expect(b.page.getByRole('complementary', { name: 'Who is here' })).toContainText('Alice');
  await screenshot(b.page, 'chat');
  await b.page.setViewportSize({ width: 375, height: 740 });
  expect(await b.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
    375,
  );
  expectClean(a.watch);
  expectClean(b.watch);
});

test('a draft survives an ended session: log in again and it is still there', async ({
  browser,
}) => {
  const { page, watch } = await openAs(browser, alice);
  await page.getByRole('link', { name: 'General' }).click();
  await page.getByRole('link', { name: 'New thread' }).click();
  await page.getByLabel('Subject').fill('A long thought');
  await page
    .getByLabel('Message', { exact: true })
    .fill('Written slowly, while the session ran out.');
  // The session ends elsewhere (here: logged out through the API with the page's own token).
  const token = await page.evaluate(
    () => JSON.parse(localStorage.getItem('axon.session')!).token as string,
  );
  const out = await fetch(`${baseUrl()}/api/auth/logout/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(out.status).toBe(200);

  // The tab hears of it at once (its live account feed ends with 401) and asks to log in again.
  await expect(page).toHaveURL(/\/login$/);
  await expect(
    page.getByRole('status').filter({ hasText: 'Anything you were writing is kept' }),
  ).toBeVisible();
  await page.getByLabel('Username').fill(alice);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/boards\/[^/]+\/new$/);
  await expect(page.getByLabel('Subject')).toHaveValue('A long thought');
  await expect(page.getByLabel('Message', { exact: true })).toHaveValue(
    'Written slowly, while the session ran out.',
  );
  await page.getByRole('button', { name: 'Post', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'A long thought' }).first()).toBeVisible();
  expectClean(watch);
});

test('logging out forgets private-message drafts, and keeps board drafts', async ({ browser }) => {
  const { page, watch } = await openAs(browser, bob);
  await page.getByRole('link', { name: 'General' }).click();
  await page.getByRole('link', { name: 'New thread' }).click();
  await page.getByLabel('Subject').fill('A public thought');
  await page.getByRole('link', { name: /Messages/ }).click();
  await page.getByRole('link', { name: 'Write' }).click();
  await page.getByLabel('To', { exact: true }).fill(alice);
  await page.getByLabel('Subject').fill('Something private');
  const drafts = () =>
    page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('axon.draft.'))
        .map((k) => localStorage.getItem(k) ?? ''),
    );
  await expect.poll(async () => (await drafts()).join()).toContain('Something private');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  const left = (await drafts()).join();
  expect(left).not.toContain('Something private');
  expect(left).toContain('A public thought');
  expectClean(watch);
});

test('a file over the limit is refused before a byte is sent', async ({ browser }) => {
  const { page, watch } = await openAs(browser, alice);
  const uploads: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/content/upload/')) uploads.push(r.url());
  });
  await page.getByRole('link', { name: 'General' }).click();
  await page.getByRole('link', { name: 'New thread' }).click();
  await page.getByLabel(/Attach files/).setInputFiles({
    name: 'huge.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.alloc(3 * 1024 * 1024, 7),
  });
  await expect(page.getByRole('alert')).toHaveText(
    'huge.bin is 3.0 MiB; this instance accepts files up to 2.0 MiB.',
  );
  expect(uploads).toEqual([]);
  await expect(page.getByRole('list', { name: 'Attached files' })).toHaveCount(0);
  expectClean(watch);
});

test('a moderator deletes a message and bans its author, whose open tab is sent to log in', async ({
  browser,
}) => {
  const a = await openAs(browser, alice);
  await a.page.goto(state.messageUrl!);
  const m = await openAs(browser, MODERATOR);

  await m.page.goto(state.replyUrl!);
  const reply = m.page.getByRole('article').filter({ hasText: 'Lovely colours!' });
  await reply.getByRole('button', { name: 'Delete' }).click();
  await reply.getByLabel('Reason (for the modlog)').fill('off-topic');
  await reply.getByRole('button', { name: 'Delete for good' }).click();
  await expect(m.page.getByText('Lovely colours!')).toHaveCount(0);

  await m.page.getByRole('link', { name: 'Moderation' }).click();
  const ban = m.page.getByRole('form', { name: 'Ban a user' });
  await ban.getByLabel('Username').fill(alice);
  await ban.getByLabel('Reason').fill('spamming the harbour');
  await ban.getByLabel('Duration').selectOption({ label: 'For good' });
  await ban.getByRole('button', { name: 'Ban', exact: true }).click();
  await expect(ban.getByRole('status')).toContainText(`${alice} is banned for good`);
  await m.page.reload();
  const log = m.page.getByRole('table', { name: /Moderation log/ });
  await expect(log).toContainText('spamming the harbour');
  await expect(log).toContainText('off-topic');
  await screenshot(m.page, 'moderation');

  // Alice, still on the thread, is told at once (her live account feed ends with the ban) and is
  // sent to log in, where the ban is named.
  await expect(a.page).toHaveURL(/\/login$/);
  await a.page.getByLabel('Username').fill(alice);
  await a.page.getByLabel('Password').fill(PASSWORD);
  await a.page.getByRole('button', { name: 'Log in' }).click();
  await expect(a.page.getByRole('alert')).toContainText('This account is banned');
  expectClean(a.watch);
  expectClean(m.watch);
});

test('a sysop sees the instance identity and manages boards and roles; everyone has a profile', async ({
  browser,
}) => {
  const s = await openAs(browser, SYSOP);
  await s.page.getByRole('link', { name: 'Admin' }).click();
  const identity = await (await fetch(`${baseUrl()}/api/federation/identity/`)).json();
  const fingerprint = identity.data.fingerprint as string;
  await expect(
    s.page.getByText(fingerprint.slice(0, 4) + ' ' + fingerprint.slice(4, 8)).first(),
  ).toBeVisible();
  const create = s.page.getByRole('form', { name: 'Create a board' });
  await create.getByLabel('Name').fill('Harbour news');
  await create.getByLabel('Description').fill('Ships in, ships out');
  await create.getByRole('button', { name: 'Create board' }).click();
  await expect(s.page.getByRole('list', { name: 'Boards' })).toContainText('Harbour news');
  const row = s.page.getByRole('row').filter({ hasText: bob });
  await row.getByLabel('Moderator').check();
  await expect(s.page.getByText(`${bob}: moderator granted.`)).toBeVisible();
  await screenshot(s.page, 'admin');

  // Bob now moderates: the navigation shows it once his profile is read again.
  const b = await openAs(browser, bob);
  await b.page.getByRole('link', { name: 'Profile' }).click();
  await expect(b.page.getByRole('link', { name: 'Moderation' })).toBeVisible();
  const profile = b.page.getByRole('form', { name: 'Nickname and time zone' });
  await profile.getByLabel('Nickname').fill('Bob the Boatman');
  await profile.getByLabel('Time zone').selectOption('Europe/Berlin');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await expect(b.page.getByText('Signed in as')).toContainText('Bob the Boatman');
  await screenshot(b.page, 'profile');
  await b.page.goto('/boards');
  await expect(b.page.getByRole('link', { name: 'Harbour news' })).toBeVisible();
  expectClean(s.watch);
  expectClean(b.watch);
});

test('a long thread shows its first page and the others by number', async ({ browser }) => {
  const { token } = await login(baseUrl(), bob);
  const boards = await apiCall<{
    items: Array<{ id: string; can_post: boolean; read_access: string }>;
  }>(baseUrl(), '/api/boards/', { token });
  const board = boards.items.find((b) => b.can_post && b.read_access === 'public')!;
  const say = (body: string, parent_id?: string) =>
    apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
      token,
      body: { board_id: board.id, subject: 'A long thread', body, parent_id },
    });
  const root = await say('reply 0');
  for (let i = 1; i <= 55; i++) await say(`reply ${i}`, root.id);

  const { page, watch } = await openAs(browser, null);
  await page.goto(`/messages/${root.id}`);
  const posts = page.getByRole('list', { name: 'Thread' }).getByRole('article');
  await expect(posts).toHaveCount(20);
  const pages = page.getByRole('navigation', { name: 'Thread pages' }).first();
  await pages.getByRole('link', { name: 'Last page, 3' }).click();
  await expect(posts).toHaveCount(16);
  await expect(posts.last()).toContainText('reply 55');
  await expect(pages.getByRole('link', { name: 'Next page' })).toHaveCount(0);
  expectClean(watch);
});

test('a user who lost the password gets back in with the recovery key, and gets a new one', async ({
  browser,
}) => {
  const { page, watch } = await openAs(browser, null);
  await page.goto('/login');
  await page.getByRole('link', { name: 'Use your recovery key' }).click();
  await page.getByLabel('Username').fill(bob);
  await page.getByLabel('Recovery key').fill('not-the-key');
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Recover' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or recovery key.');
  await page.getByLabel('Recovery key').fill(bobRecoveryKey);
  await page.getByRole('button', { name: 'Recover' }).click();
  const key = page.getByTestId('recovery-key');
  await expect(key).toBeVisible();
  expect((await key.textContent())?.trim()).not.toBe(bobRecoveryKey);
  await page.getByLabel('I saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByText('Signed in as')).toBeVisible();
  expectClean(watch);
});
