// Private messages to another instance in a real browser: the compose screen takes
// `name@instance`, the sent letter shows its recipient as name@instance and its delivery, and a
// reply from there shows as nickname@instance with a Reply that goes back to that instance.
import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import {
  api,
  type Instance,
  registerOn,
  startInstance,
} from '../../src/test-support/federation.js';
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
} from './support.js';

interface Pm {
  id: string;
  subject: string;
  body: string;
  from: { fingerprint: string; nickname: string; instance: string | null };
}

/** Polls until the check holds: a delivery has no event to wait on. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

let remote: Instance;
let sysopToken: string;
test.beforeAll(async () => {
  remote = await startInstance('remote', 'sqlite');
  // Each trusts the other: this server's sysop adds the remote through the API, with its
  // fingerprint; the remote's row for this server is written as its operator's `axon peer add` does.
  sysopToken = (await login(baseUrl(), SYSOP)).token;
  await apiCall(baseUrl(), '/api/federation/peers/', {
    token: sysopToken,
    body: { base_url: remote.url, fingerprint: remote.identity.fingerprint },
  });
  const here = await apiCall<{ pubkey: string; fingerprint: string; nickname: string }>(
    baseUrl(),
    '/api/federation/identity/',
  );
  const now = Date.now();
  await remote.database.db
    .insertInto('peers')
    .values({
      fingerprint: here.fingerprint,
      pubkey: here.pubkey,
      base_url: baseUrl(),
      nickname: here.nickname,
      trusted: true,
      created_at: now,
      updated_at: now,
    })
    .execute();
});
test.afterAll(async () => {
  if (sysopToken !== undefined && remote !== undefined) {
    await apiCall(baseUrl(), `/api/federation/peers/${remote.identity.fingerprint}/`, {
      token: sysopToken,
      method: 'DELETE',
    });
  }
  await remote?.close();
});

test('a letter to name@instance is composed, delivered, answered from there and replied to', async ({
  browser,
}) => {
  const unique = randomBytes(4).toString('hex');
  const username = `pen${unique}`;
  await registerViaApi(baseUrl(), username);
  const rita = await registerOn(remote, 'rita');
  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await logInThroughForm(page, username);

  await page.getByRole('link', { name: /Messages/ }).click();
  await page.getByRole('link', { name: 'Write' }).click();
  const address = `rita@${remote.identity.nickname}`;
  await page.getByLabel('To', { exact: true }).fill(address);
  await page.getByLabel('Subject').fill(`Across the water ${unique}`);
  await page.getByLabel('Message', { exact: true }).fill('Greetings from *the other shore*.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page).toHaveURL(/\/pm\/[^/]+$/);
  await expect(page.getByRole('heading', { name: `Across the water ${unique}` })).toBeVisible();
  await expect(page.getByText(`to ${address}`, { exact: false })).toBeVisible();
  // The screen reads the letter again while it waits, until the other instance has it.
  await expect(page.getByLabel('Delivery')).toHaveText(`delivered to ${remote.identity.nickname}`);
  await screenshot(page, 'pm-remote-sent');

  // Rita reads it on her instance, and answers.
  const inbox = await api<{ items: Pm[] }>(remote, '/api/private_messages/', { token: rita });
  expect(inbox.items[0]).toMatchObject({
    subject: `Across the water ${unique}`,
    body: 'Greetings from *the other shore*.',
  });
  const back = inbox.items[0]!.from;
  const answered = await api<{ id: string }>(remote, '/api/private_messages/', {
    method: 'POST',
    token: rita,
    body: {
      to: `${back.fingerprint}@${back.instance}`,
      subject: `Re: Across the water ${unique}`,
      body: 'Received, with thanks.',
    },
  });

  // Once her instance has delivered it, the answer shows as rita@instance; Reply addresses her key
  // at her instance.
  await waitFor(async () => {
    const copy = await api<{ delivery: { state: string } }>(
      remote,
      `/api/private_messages/${answered.id}/`,
      { token: rita },
    );
    return copy.delivery.state === 'delivered';
  });
  await page.getByRole('link', { name: 'Back to messages' }).click();
  // Her conversation is named after her, at her instance; the inbox lists the letter itself.
  await expect(
    page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('link', { name: new RegExp(address) }),
  ).toContainText(`Re: Across the water ${unique}`);
  await page.getByRole('button', { name: 'Inbox' }).click();
  const answer = page.getByRole('link', { name: `Re: Across the water ${unique}` });
  await expect(page.getByText(`from ${address}`)).toBeVisible();
  await answer.click();
  await expect(page.getByText('Received, with thanks.')).toBeVisible();
  await expect(page.getByText('✔ signed')).toBeVisible();
  await page.getByRole('link', { name: 'Reply' }).click();
  const ritaKey = (
    await api<{ fingerprint: string }>(remote, '/api/user/profile/', { token: rita })
  ).fingerprint;
  await expect(page.getByLabel('To', { exact: true })).toHaveValue(
    `${ritaKey}@${remote.identity.nickname}`,
  );
  await page.getByLabel('Message', { exact: true }).fill('And back again.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByLabel('Delivery')).toHaveText(`delivered to ${remote.identity.nickname}`);
  await screenshot(page, 'pm-remote-reply');

  // An address at an instance this server does not trust is refused on the form.
  await page.getByRole('link', { name: 'Back to messages' }).click();
  await page.getByRole('link', { name: 'Write' }).click();
  await page.getByLabel('To', { exact: true }).fill('rita@nowhere.example');
  await page.getByLabel('Subject').fill('Lost');
  await page.getByLabel('Message', { exact: true }).fill('Nobody will read this.');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByText('no trusted instance "nowhere.example" here')).toBeVisible();
  expectClean(watch);
  await context.close();
});
