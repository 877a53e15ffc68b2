// A remote author in a real browser: the test's server (B) shares a board with a real second
// instance (A); alice of A posts with an avatar; on B the thread shows her as alice@A, marked
// remote, with her avatar, and her name leads to a profile that says she is no user of B.
import { expect, test } from '@playwright/test';
import { gradientPng } from './images.js';
import {
  api,
  registerOn,
  startInstance,
  waitForEvents,
  type Instance,
} from '../../src/test-support/federation.js';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  login,
  screenshot,
  watchContext,
} from './support.js';

let a: Instance;
test.beforeAll(async () => {
  a = await startInstance('a', 'sqlite');
});
test.afterAll(async () => {
  await a?.close();
});

test('a remote author shows as nickname@instance with a profile of their own', async ({
  browser,
}) => {
  // B (the browser's server) adds A, pinning its fingerprint; A trusts B by a row of its own.
  const sysop = await login(baseUrl(), SYSOP);
  const b = await apiCall<{ fingerprint: string; pubkey: string; nickname: string }>(
    baseUrl(),
    '/api/federation/identity/',
  );
  await apiCall(baseUrl(), '/api/federation/peers/', {
    token: sysop.token,
    body: { base_url: a.url, fingerprint: a.identity.fingerprint },
  });
  const now = Date.now();
  await a.database.db
    .insertInto('peers')
    .values({
      fingerprint: b.fingerprint,
      pubkey: b.pubkey,
      base_url: baseUrl(),
      nickname: b.nickname,
      trusted: true,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const room = { federation_room_id: 'remote-commons', is_realtime: true };
  const onB = await apiCall<{ id: string }>(baseUrl(), '/api/boards/', {
    token: sysop.token,
    body: { name: 'Commons', ...room, trusted_peers: [a.identity.fingerprint] },
  });
  const onA = await api<{ id: string }>(a, '/api/boards/', {
    method: 'POST',
    token: a.sysopToken,
    body: { name: 'Commons', ...room, trusted_peers: [b.fingerprint] },
  });

  const alice = await registerOn(a, 'alice');
  const avatar = await fetch(`${a.url}/api/user/avatar/`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'image/png' },
    body: new Uint8Array(gradientPng(24, 24)),
  });
  expect(avatar.status).toBe(200);
  await api(a, '/api/messages/', {
    method: 'POST',
    token: alice,
    body: { board_id: onA.id, subject: 'Hello from A', body: 'Greetings across instances.' },
  });
  // Her profile (with the avatar) goes once she has posted on a shared board.
  await api(a, '/api/user/profile/', {
    method: 'PATCH',
    token: alice,
    body: { nickname: 'alice' },
  });
  await api(a, '/api/messages/', {
    method: 'POST',
    token: alice,
    body: { board_id: onA.id, subject: 'Second', body: 'After the profile.' },
  });
  await waitForEvents({ url: baseUrl() } as Instance, onB.id, 2);

  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await page.goto(`/boards/${onB.id}`);
  await page.getByRole('link', { name: 'Hello from A' }).click();
  const article = page.getByRole('article', { name: 'Hello from A' });
  const name = article.getByRole('link', {
    name: `alice@${a.identity.nickname}, an author of the instance ${a.identity.nickname}`,
  });
  await expect(name).toHaveText(`alice@${a.identity.nickname}`);
  await expect(article.getByText('remote', { exact: true })).toBeVisible();
  const image = article.locator('img');
  await expect(image).toHaveAttribute('src', /^\/api\/remote_authors\/[0-9a-f]{64}\/avatar\//);
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(24);
  await screenshot(page, 'remote-author-thread');

  await name.click();
  await expect(page.getByRole('heading', { name: `alice@${a.identity.nickname}` })).toBeVisible();
  await expect(page.getByText('not a user of this BBS')).toBeVisible();
  await expect(
    page.getByRole('img', { name: `Avatar of alice@${a.identity.nickname}` }),
  ).toBeVisible();
  await screenshot(page, 'remote-author-profile');
  expectClean(watch);
  await context.close();
});
