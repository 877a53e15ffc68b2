// Moderation at hand, as a moderator works the report queue in a real browser: who reported, the
// post removed and its author banned from the report without typing a name, and several reports
// resolved at once.
import { expect, test, type Page } from '@playwright/test';
import {
  MODERATOR,
  PASSWORD,
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  login,
  registerViaApi,
  watchContext,
  type Watch,
} from './support.js';

test.describe.configure({ mode: 'serial' });

const unique = Date.now().toString(36);
const spammer = `spammer_${unique}`;
const reporter = `reporter_${unique}`;

let reporterToken: string;
let spammerToken: string;
let boardId: string;
let page: Page;
let watch: Watch;

/** A message by the spammer, reported by the reporter; the message's id. */
async function reportedPost(subject: string, reason: string): Promise<string> {
  const message = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: spammerToken,
    body: { board_id: boardId, subject, body: `Buy now: ${subject}` },
  });
  await apiCall(baseUrl(), `/api/messages/${message.id}/report/`, {
    token: reporterToken,
    body: { reason },
  });
  return message.id;
}

const messageStatus = async (id: string) =>
  (
    await fetch(`${baseUrl()}/api/messages/${id}/`, {
      headers: { Authorization: `Bearer ${reporterToken}` },
    })
  ).status;

const card = (subject: string) => page.getByRole('article', { name: `Report on “${subject}”` });

test.beforeAll(async ({ browser }) => {
  await Promise.all([
    registerViaApi(baseUrl(), spammer, 'Spammy'),
    registerViaApi(baseUrl(), reporter, 'Watchful'),
  ]);
  [spammerToken, reporterToken] = await Promise.all([
    login(baseUrl(), spammer).then((s) => s.token),
    login(baseUrl(), reporter).then((s) => s.token),
  ]);
  const boards = await apiCall<{ items: { id: string; name: string }[] }>(
    baseUrl(),
    '/api/boards/',
    { token: spammerToken },
  );
  boardId = boards.items.find((b) => b.name === 'General')!.id;
  const context = await browser.newContext();
  watch = await watchContext(context);
  page = await context.newPage();
  await logInThroughForm(page, MODERATOR);
});

test.afterAll(() => expectClean(watch));

test('a report shows who reported it; "Remove the post" removes it without more ado', async () => {
  const subject = `Watches ${unique}`;
  const id = await reportedPost(subject, 'advertising');
  await page.goto('/moderation');
  const report = card(subject);
  await expect(report).toContainText('by Watchful');
  await expect(report).toContainText(`(${reporter})`);
  await report.getByRole('button', { name: 'Remove the post' }).click();

  await expect(page.getByRole('status').filter({ hasText: subject })).toContainText(
    'upheld; the message is deleted',
  );
  await expect(card(subject)).toHaveCount(0);
  expect(await messageStatus(id)).toBe(404);
});

test('several selected reports are dismissed at once, the others left open', async () => {
  const subjects = [`Pills ${unique}`, `Loans ${unique}`, `Crypto ${unique}`];
  const ids = [];
  for (const subject of subjects) ids.push(await reportedPost(subject, 'spam'));
  await page.goto('/moderation');
  for (const subject of subjects.slice(0, 2))
    await card(subject)
      .getByRole('checkbox', { name: /Select the report/ })
      .check();
  const bar = page.getByRole('form', { name: 'Selected reports' });
  await expect(bar).toContainText('2 reports selected');
  await bar.getByRole('button', { name: 'Dismiss selected' }).click();

  await expect(page.getByText('2 reports dismissed.')).toBeVisible();
  await expect(card(subjects[0]!)).toHaveCount(0);
  await expect(card(subjects[1]!)).toHaveCount(0);
  await expect(card(subjects[2]!)).toBeVisible();
  await expect(bar).toContainText('0 reports selected');
  // Dismissed: the posts stay.
  for (const id of ids) expect(await messageStatus(id)).toBe(200);

  // Then the last one, with its post removed.
  await card(subjects[2]!)
    .getByRole('checkbox', { name: /Select the report/ })
    .check();
  await bar.getByRole('button', { name: 'Remove their posts' }).click();
  await expect(page.getByText('1 report upheld, their posts removed.')).toBeVisible();
  expect(await messageStatus(ids[2]!)).toBe(404);
});

test('"Ban the author" bans the reported account, with the report’s reason, no name typed', async () => {
  const subject = `Casino ${unique}`;
  await reportedPost(subject, 'spam everywhere');
  await page.goto('/moderation');
  await card(subject).getByRole('button', { name: 'Ban the author…' }).click();
  const form = page.getByRole('form', { name: 'Ban Spammy' });
  await expect(form.getByLabel('Reason')).toHaveValue('spam everywhere');
  await expect(form).toContainText(`Bans the account ${spammer}`);
  await form.getByLabel('Duration').selectOption('1 day');
  await form.getByRole('button', { name: 'Ban the author' }).click();
  await expect(form.getByRole('status')).toContainText(`${spammer} is banned until`);

  const refused = await fetch(`${baseUrl()}/api/auth/login/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: spammer, password: PASSWORD }),
  });
  expect(refused.status).toBe(403);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ACCOUNT_BANNED');
});
