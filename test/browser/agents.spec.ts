// An agent's posts in a real browser: a bot a sysop made posts through its scoped token, and every
// reader sees a "bot" badge beside its name on the board and in the thread, and none beside a
// person's.
import { expect, test } from '@playwright/test';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  login,
  registerViaApi,
  watchContext,
} from './support.js';

const unique = Date.now().toString(36);
const reader = `erin_${unique}`;

test('an agent posts through its token and shows with a bot badge', async ({ browser }) => {
  const sysop = await login(baseUrl(), SYSOP);
  const board = await apiCall<{ id: string }>(baseUrl(), '/api/boards/', {
    token: sysop.token,
    body: { name: `Bots ${unique}`, read_access: 'public', post_access: 'members' },
  });
  await apiCall(baseUrl(), '/api/admin/agents/', {
    token: sysop.token,
    body: { name: `herald_${unique}`, nickname: 'Herald' },
  });
  const { token } = await apiCall<{ token: string }>(
    baseUrl(),
    `/api/admin/agents/herald_${unique}/tokens/`,
    { token: sysop.token, body: { label: 'browser test', boards: [board.id] } },
  );
  const human = await registerViaApi(baseUrl(), reader, 'Erin');
  const botPost = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token,
    body: { board_id: board.id, subject: 'Daily digest', body: 'Three new threads today.' },
  });
  await apiCall(baseUrl(), '/api/messages/', {
    token: human.token,
    body: { board_id: board.id, subject: 'Thanks, bot', body: 'Handy.', parent_id: botPost.id },
  });

  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await logInThroughForm(page, reader);

  await page.goto(`/boards/${board.id}`);
  const item = page.getByRole('listitem').filter({ hasText: 'Daily digest' });
  await expect(item.getByText('Herald')).toBeVisible();
  await expect(item.getByText('bot', { exact: true })).toBeVisible();

  await page.goto(`/messages/${botPost.id}`);
  const opener = page.getByRole('article').filter({ hasText: 'Three new threads today.' });
  await expect(opener.getByText('bot', { exact: true })).toBeVisible();
  await expect(opener.getByText('✔ signed')).toBeVisible();
  const reply = page.getByRole('article').filter({ hasText: 'Handy.' });
  await expect(reply.getByText('Erin')).toBeVisible();
  await expect(reply.getByText('bot', { exact: true })).toHaveCount(0);
  expectClean(watch);
  await context.close();
});
