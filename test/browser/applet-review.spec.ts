// Applet review in real Chromium: a moderator sees the applets waiting for approval with their
// manifest (uploader, category, code hash and size, MIME types, parameters) and the code as text,
// and approves or rejects them with a reason the owner then reads; an approved one is listed.
import { expect, test } from '@playwright/test';
import { installApplet } from './applet-support.js';
import {
  MODERATOR,
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  login,
  logInThroughForm,
  registerViaApi,
  watchContext,
} from './support.js';

const unique = Date.now().toString(36);

interface Applet {
  id: string;
  name: string;
  status: string;
  review_reason: string | null;
  code_manifest: { content_hash: string; size: number };
}

test('a moderator reviews pending applets: manifest, code, approve and reject with a reason', async ({
  page,
  context,
}) => {
  const watch = await watchContext(context);
  const base = baseUrl();
  const author = `author${unique}`;
  const { token } = await registerViaApi(base, author);
  const sysop = await login(base, SYSOP);
  await apiCall(base, `/api/moderation/users/${author}/karma/`, {
    token: sysop.token,
    body: { delta: 10, reason: 'trusted author' },
  });
  const code = `document.getElementById('applet-root').textContent = 'marker-${unique}';`;
  const good = `Good ${unique}`;
  const goodId = await installApplet(
    good,
    code,
    { category_name: 'Games', parameters: { level: 3 }, handles_mime_types: ['text/csv'] },
    token,
  );
  const bad = `Bad ${unique}`;
  const badId = await installApplet(bad, '/* mines bitcoin */', {}, token);
  const pending = await apiCall<Applet>(base, `/api/applets/${goodId}/`, { token });
  expect(pending.status).toBe('pending');

  await logInThroughForm(page, MODERATOR);
  await page.goto('/moderation#applets');
  const item = page.getByRole('listitem', { name: good });
  await expect(item).toContainText(`Uploaded by${author}`);
  await expect(item).toContainText('CategoryGames');
  await expect(item).toContainText(pending.code_manifest.content_hash);
  await expect(item).toContainText(`${code.length} B`);
  await expect(item).toContainText('Openstext/csv');
  await expect(item.getByLabel(`Parameters of ${good}`)).toContainText('"level": 3');
  await item.getByRole('button', { name: 'Show code' }).click();
  // The code is shown as text, never run: the marker is only in the code view.
  await expect(item.getByLabel(`Code of ${good}`)).toHaveText(code);
  await expect(page.locator('iframe')).toHaveCount(0);

  const badItem = page.getByRole('listitem', { name: bad });
  await badItem.getByLabel('Reason').fill('it mines coins');
  await badItem.getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Rejected ${bad}.` })).toBeVisible();
  await expect(badItem).toHaveCount(0);

  await item.getByLabel('Reason').fill('looks fine');
  await item.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Approved ${good}.` })).toBeVisible();
  await expect(item).toHaveCount(0);

  // The owner reads the outcome and the reason; the approved one is listed for everyone.
  const rejected = await apiCall<Applet>(base, `/api/applets/${badId}/`, { token });
  expect([rejected.status, rejected.review_reason]).toEqual(['rejected', 'it mines coins']);
  const approved = await apiCall<Applet>(base, `/api/applets/${goodId}/`, { token });
  expect([approved.status, approved.review_reason]).toEqual(['approved', 'looks fine']);
  await page.goto('/applets');
  await expect(page.getByRole('link', { name: good })).toBeVisible();
  await expect(page.getByRole('link', { name: bad })).toHaveCount(0);
  expectClean(watch);
});

test('the review section is for moderators: others are told so and the API refuses them', async ({
  page,
}) => {
  const base = baseUrl();
  const user = `plain${unique}`;
  const { token } = await registerViaApi(base, user);
  await logInThroughForm(page, user);
  await page.goto('/moderation#applets');
  await expect(page.getByText('This page is for moderators only.')).toBeVisible();
  const refused = await fetch(`${base}/api/applets/?status=pending`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(refused.status).toBe(403);
});
