// People and conversations in a real browser, with two users in two contexts: alice's avatar
// shows beside her post and her name leads to her profile (join date, posts, recent posts); bob
// writes to her from there; she finds a conversation named after him, quotes his letter in her
// reply, and he sees what it answers; who's online on the boards screen shows her once she is in
// the chat room; at phone width nothing scrolls sideways.
import { expect, test } from '@playwright/test';
import { gradientPng } from './images.js';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  login,
  registerViaApi,
  screenshot,
  openAs,
} from './support.js';

const unique = Date.now().toString(36);

test('profiles, avatars, conversations with quoting, and who is online', async ({ browser }) => {
  const aliceName = `alice_${unique}`;
  const bobName = `bob_${unique}`;
  const alice = await registerViaApi(baseUrl(), aliceName);
  await registerViaApi(baseUrl(), bobName);
  const avatar = await fetch(`${baseUrl()}/api/user/avatar/`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${alice.token}`, 'Content-Type': 'image/png' },
    body: new Uint8Array(gradientPng(32, 32)),
  });
  expect(avatar.status).toBe(200);
  const sysop = await login(baseUrl(), SYSOP);
  const board = await apiCall<{ id: string }>(baseUrl(), '/api/boards/', {
    token: sysop.token,
    body: { name: `Porch ${unique}` },
  });
  const post = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: alice.token,
    body: { board_id: board.id, subject: `Evening light ${unique}`, body: 'The porch at dusk.' },
  });

  // Bob reads her post: her avatar is beside her name, which opens her profile.
  const bob = await openAs(browser, bobName);
  await bob.page.goto(`/messages/${post.id}`);
  const byline = bob.page.locator('main').getByRole('link', { name: aliceName }).first();
  await expect(byline).toBeVisible();
  const image = bob.page.locator(`main img[src^="/api/users/${alice.user.id}/avatar/"]`).first();
  await expect(image).toBeVisible();
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(32);
  await byline.click();
  await expect(bob.page).toHaveURL(`/people/${alice.user.fingerprint}`);
  await expect(bob.page.getByRole('heading', { level: 1, name: aliceName })).toBeVisible();
  await expect(bob.page.getByText('Joined')).toBeVisible();
  const recent = bob.page.getByRole('list', { name: 'Recent posts' });
  await expect(recent.getByRole('link', { name: `Evening light ${unique}` })).toBeVisible();
  await screenshot(bob.page, 'profile');

  // From her profile he writes to her: a conversation named after her, empty at first.
  await bob.page.getByRole('link', { name: 'Send a private message' }).click();
  await expect(bob.page.getByRole('heading', { level: 1 })).toContainText(
    `Conversation with [${alice.user.fingerprint.slice(0, 8)}]`,
  );
  await bob.page.getByLabel('Subject').fill(`Your photo ${unique}`);
  await bob.page.getByLabel('Message', { exact: true }).fill('Where was it taken?');
  await bob.page.getByRole('button', { name: 'Send' }).click();
  const bobLetters = bob.page.getByRole('list', { name: 'Letters' });
  await expect(bobLetters.getByText('Where was it taken?')).toBeVisible();
  await expect(bob.page.getByRole('heading', { level: 1 })).toContainText(
    `Conversation with ${aliceName}`,
  );

  // Alice finds a conversation with bob, by name, marked new.
  const al = await openAs(browser, aliceName);
  await al.page.getByRole('link', { name: /Messages/ }).click();
  const conversations = al.page.getByRole('list', { name: 'Conversations' });
  const withBob = conversations.getByRole('link', { name: new RegExp(bobName) });
  await expect(withBob).toContainText(`Your photo ${unique}`);
  await expect(conversations.getByText('new', { exact: true })).toBeVisible();
  await screenshot(al.page, 'conversations');
  await withBob.click();
  await expect(al.page.getByRole('heading', { level: 1 })).toContainText(
    `Conversation with ${bobName}`,
  );

  // She quotes his letter: the composer says what it answers and holds the quotation.
  await al.page.getByRole('button', { name: 'Quote' }).click();
  await expect(al.page.getByLabel('Answering')).toContainText(`Your photo ${unique}`);
  const message = al.page.getByLabel('Message', { exact: true });
  await expect(message).toHaveValue('> Where was it taken?\n\n');
  await expect(message).toBeFocused();
  await message.press('End');
  await message.pressSequentially('On the old porch.');
  await al.page.getByRole('button', { name: 'Send' }).click();
  const alLetters = al.page.getByRole('list', { name: 'Letters' });
  await expect(alLetters.getByRole('listitem')).toHaveCount(2);
  await expect(alLetters.locator('blockquote')).toHaveText('Where was it taken?');
  await expect(alLetters.getByText('In reply to')).toBeVisible();
  await screenshot(al.page, 'conversation');

  // Bob sees her answer in order, saying which letter it answers; the link goes to it.
  await bob.page.reload();
  const answer = bobLetters.getByRole('listitem').nth(1);
  await expect(answer).toContainText('On the old porch.');
  await expect(answer.getByRole('link', { name: `Your photo ${unique}` })).toBeVisible();
  await expect(bobLetters.getByRole('listitem').first()).toContainText('Where was it taken?');

  // Who's online: once alice is in the chat room, bob's boards screen lists her.
  await al.page.getByRole('link', { name: 'Chat' }).first().click();
  await expect(
    al.page.getByRole('complementary', { name: 'Who is here' }).getByText(aliceName),
  ).toBeVisible();
  await bob.page.goto('/boards');
  const online = bob.page.getByRole('list', { name: "Who's online" });
  await expect(online.getByRole('link', { name: aliceName })).toBeVisible();
  await online.getByRole('link', { name: aliceName }).click();
  await expect(bob.page).toHaveURL(`/people/${alice.user.fingerprint}`);

  // At phone width the conversation and the profile do not scroll sideways.
  for (const path of [`/pm/with/${alice.user.fingerprint}`, `/people/${alice.user.fingerprint}`]) {
    await bob.page.setViewportSize({ width: 375, height: 740 });
    await bob.page.goto(path);
    await expect(bob.page.locator('main h1')).toBeVisible();
    expect(
      await bob.page.evaluate(() => document.documentElement.scrollWidth),
      path,
    ).toBeLessThanOrEqual(375);
  }

  expectClean(bob.watch);
  expectClean(al.watch);
  await bob.context.close();
  await al.context.close();
});
