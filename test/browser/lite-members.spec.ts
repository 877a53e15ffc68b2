// Axon without JavaScript for members, in real Chromium with JavaScript turned off: sign up (the
// wait instead of the proof of work, the recovery key shown once), recover, delete an own post,
// report another's and have a moderator uphold it from the queue, private messages written, read
// and answered, the chat page that reloads itself, and the profile. No script on any page and
// nothing loaded from elsewhere.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { MODERATOR, PASSWORD, apiCall, baseUrl, registerViaApi, watchContext } from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);

/** A context with JavaScript off, watched for requests to anywhere else. */
async function noScript(browser: Browser) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const watch = await watchContext(context);
  const page = await context.newPage();
  return { context, watch, page };
}

async function logIn(page: Page, username: string, password = PASSWORD) {
  await page.goto('/lite/login/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
}

test('a visitor signs up without JavaScript, keeps the recovery key and recovers', async ({
  browser,
}) => {
  const { context, watch, page } = await noScript(browser);
  const name = `lreg_${unique}`;
  await page.goto('/lite/');
  await page.getByRole('link', { name: 'Log in' }).click();
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByText('the server asks you to wait instead')).toBeVisible();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the account' }).click();
  const key = (await page.getByTestId('recovery-key').textContent())!.trim();
  expect(key.length).toBeGreaterThan(20);
  // Continue asks first that the key was saved (a required box: no script needed).
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/lite\/register\/$/);
  await page.getByLabel('I saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Boards' })).toBeVisible();
  await expect(page.getByRole('link', { name })).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();

  await page.goto('/lite/login/');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Recovery key').fill(key);
  await page.getByLabel('New password').fill(`${PASSWORD} again`);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  const newKey = (await page.getByTestId('recovery-key').textContent())!.trim();
  expect(newKey).not.toBe(key);
  await page.getByLabel('I saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await logIn(page, name, `${PASSWORD} again`);
  expect(await page.locator('script').count()).toBe(0);
  expect(watch.foreignRequests).toEqual([]);
  await context.close();
});

test('a member deletes an own post and reports another; a moderator upholds it', async ({
  browser,
}) => {
  const other = await registerViaApi(baseUrl(), `lother_${unique}`);
  const member = `lmem_${unique}`;
  await registerViaApi(baseUrl(), member);
  const boards = await apiCall<{ items: Array<{ id: string; read_access: string }> }>(
    baseUrl(),
    '/api/boards/',
  );
  const board = boards.items.find((b) => b.read_access === 'public')!;
  const subject = `Reportable ${unique}`;
  const opener = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: other.token,
    body: { board_id: board.id, subject, body: 'something against the rules' },
  });

  const { context, watch, page } = await noScript(browser);
  await logIn(page, member);
  await page.goto(`/lite/messages/${opener.id}/`);
  await page.getByLabel('Message (Markdown)').fill(`my hasty reply ${unique}`);
  await page.getByRole('button', { name: 'Post' }).click();
  await expect(page.getByText(`my hasty reply ${unique}`)).toBeVisible();
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText(`my hasty reply ${unique}`)).toHaveCount(0);

  await page.getByRole('link', { name: 'Report' }).click();
  await page.getByLabel('What is wrong with it?').fill(`breaks rule ${unique}`);
  await page.getByRole('button', { name: 'Report' }).click();
  await expect(page.getByRole('heading', { name: 'Reported' })).toBeVisible();
  await context.close();

  const moderator = await noScript(browser);
  await logIn(moderator.page, MODERATOR);
  await moderator.page.getByRole('link', { name: 'Reports' }).click();
  const item = moderator.page.getByRole('listitem').filter({ hasText: `breaks rule ${unique}` });
  await item.getByLabel('Delete the message when upholding').check();
  await item.getByRole('button', { name: 'Uphold' }).click();
  await expect(moderator.page.getByText(`breaks rule ${unique}`)).toHaveCount(0);
  const gone = await moderator.page.goto(`/lite/messages/${opener.id}/`);
  expect(gone?.status()).toBe(404);
  expect(watch.foreignRequests).toEqual([]);
  expect(moderator.watch.foreignRequests).toEqual([]);
  await moderator.context.close();
});

test('members write, read and answer private messages, chat and change their nickname', async ({
  browser,
}) => {
  const sender = `lpma_${unique}`;
  const recipient = `lpmb_${unique}`;
  await registerViaApi(baseUrl(), sender);
  await registerViaApi(baseUrl(), recipient);

  const a = await noScript(browser);
  await logIn(a.page, sender);
  await a.page.getByRole('link', { name: 'Messages' }).click();
  await a.page.getByRole('link', { name: 'Write a message' }).click();
  await a.page.getByLabel(/^To/).fill(recipient);
  await a.page.getByLabel('Subject').fill(`Hello ${unique}`);
  await a.page.getByLabel('Message (Markdown)').fill('Meet at **noon**.');
  await a.page.getByRole('button', { name: 'Send' }).click();
  await expect(a.page.getByRole('heading', { name: `Hello ${unique}` })).toBeVisible();

  const b = await noScript(browser);
  await logIn(b.page, recipient);
  await b.page.getByRole('link', { name: 'Messages' }).click();
  await expect(b.page.getByRole('heading', { name: 'Inbox (1 unread)' })).toBeVisible();
  await b.page.getByRole('link', { name: `Hello ${unique}` }).click();
  await expect(b.page.locator('.body strong', { hasText: 'noon' })).toBeVisible();
  await b.page.getByRole('link', { name: 'Reply' }).click();
  await expect(b.page.getByLabel('Subject')).toHaveValue(`Re: Hello ${unique}`);
  await b.page.getByLabel('Message (Markdown)').fill('Noon it is.');
  await b.page.getByRole('button', { name: 'Send' }).click();
  await expect(b.page.getByText('Noon it is.')).toBeVisible();
  await a.page.goto('/lite/private/');
  await a.page.getByRole('link', { name: `Re: Hello ${unique}` }).click();
  await expect(a.page.getByText('Noon it is.')).toBeVisible();

  // Chat: the page reloads itself; a line said shows on it.
  await a.page.getByRole('link', { name: 'Chat' }).click();
  await expect(a.page.locator('meta[http-equiv="refresh"]')).toHaveAttribute('content', '15');
  await a.page.getByRole('link', { name: 'Say something' }).click();
  await a.page.getByLabel('Your line').fill(`good evening ${unique}`);
  await a.page.getByRole('button', { name: 'Send' }).click();
  await expect(a.page).toHaveURL(/\/lite\/chat\/$/);
  await expect(a.page.getByText(`good evening ${unique}`)).toBeVisible();
  await b.page.goto('/lite/chat/');
  await expect(b.page.getByText(`good evening ${unique}`)).toBeVisible();

  // The profile: the nickname changes, and the header shows it.
  await a.page.getByRole('link', { name: sender }).click();
  await expect(a.page.getByText('Key fingerprint')).toBeVisible();
  await a.page.getByLabel('Nickname').fill(`Sender ${unique}`);
  await a.page.getByRole('button', { name: 'Save' }).click();
  await expect(a.page.getByRole('link', { name: `Sender ${unique}` })).toBeVisible();

  expect(a.watch.foreignRequests).toEqual([]);
  expect(b.watch.foreignRequests).toEqual([]);
  await a.context.close();
  await b.context.close();
});
