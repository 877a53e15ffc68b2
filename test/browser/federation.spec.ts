// The sysop's Federation screen in a real browser against a real server and a real second
// instance: fetch a peer's identity, compare its fingerprint, add it, share a board with it, and
// see its health and trust change.
import { expect, test } from '@playwright/test';
import { formatFingerprint } from '../../src/server/modules/federation/identity.js';
import { startPeerInstance, type PeerInstance } from '../../src/test-support/peer-instance.js';
import {
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  login,
  screenshot,
  watchContext,
} from './support.js';

let peer: PeerInstance;
test.beforeAll(async () => {
  peer = await startPeerInstance();
});
test.afterAll(async () => {
  await peer?.stop();
});

test('a sysop adds a peer after comparing its fingerprint and shares a board with it', async ({
  browser,
}) => {
  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await logInThroughForm(page, SYSOP);
  await page.getByRole('link', { name: 'Admin' }).click();

  const add = page.getByRole('form', { name: 'Add a peer' });
  await add.getByLabel('Base URL').fill(peer.url);
  await add.getByRole('button', { name: 'Fetch identity' }).click();
  const confirm = add.getByRole('group', { name: 'Confirm the fingerprint' });
  await expect(confirm).toContainText(formatFingerprint(peer.fingerprint));
  await expect(confirm).toContainText(peer.nickname);
  // Nothing is stored before the sysop confirms.
  const sysop = await login(baseUrl(), SYSOP);
  const before = await apiCall<{ items: Array<{ fingerprint: string }> }>(
    baseUrl(),
    '/api/federation/peers/',
    { token: sysop.token },
  );
  // (Other specs share this instance and may have added peers of their own.)
  expect(before.items.filter((p) => p.fingerprint === peer.fingerprint)).toEqual([]);
  await screenshot(page, 'federation-confirm');

  await confirm.getByRole('button', { name: 'It matches: add this peer' }).click();
  await expect(add.getByText(`Peer “${peer.nickname}” added.`)).toBeVisible();
  const row = page.getByRole('listitem', { name: `Peer ${peer.nickname}` });
  await expect(row).toContainText('healthy');
  await expect(row).toContainText(formatFingerprint(peer.fingerprint));

  // Share the General board with the new peer.
  await page.getByRole('button', { name: 'Edit General' }).click();
  const edit = page.getByRole('form', { name: 'Edit board General' });
  await edit.getByLabel('Federation room id').fill('general-commons');
  await edit.getByLabel(`Shared with ${peer.nickname}`).check();
  // The peer created the room: it is the room's home (the writer of its shared state).
  await edit.getByLabel('Home of the room').selectOption({ label: peer.nickname });
  await edit.getByRole('button', { name: 'Save board' }).click();
  await expect(page.getByText('Board “General” saved.')).toBeVisible();
  const boards = await apiCall<{
    items: Array<{
      name: string;
      federation_room_id: string | null;
      trusted_peers: string[];
      federation_home: string | null;
    }>;
  }>(baseUrl(), '/api/boards/');
  expect(boards.items.find((b) => b.name === 'General')).toMatchObject({
    federation_room_id: 'general-commons',
    trusted_peers: [peer.fingerprint],
    federation_home: peer.fingerprint,
  });
  await page.getByRole('button', { name: 'Edit General' }).click();
  await expect(
    page
      .getByRole('form', { name: 'Edit board General' })
      .getByLabel(`Shared with ${peer.nickname}`),
  ).toBeChecked();
  await screenshot(page, 'federation-board');

  // Distrust shows in its health at once.
  await row.getByLabel('Trusted', { exact: true }).uncheck();
  await expect(row).toContainText('untrusted');
  await expect(row).toContainText('a sysop has not trusted it');
  expectClean(watch);
  await context.close();
});
