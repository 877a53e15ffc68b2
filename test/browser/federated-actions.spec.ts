// Federated moderation on the moderators' desk, in a real browser: the test's server (B) shares a
// board with a real second instance (A) it trusts for moderation. A's sysop deletes a message
// (applied on B) and corrects the profile of an author B never saw (refused on B). A moderator of
// B sees both with the peer they came from, the refusal's reason, and reverses the deletion with a
// button: the message is back on B, and still gone on A.
import { expect, test } from '@playwright/test';
import {
  api,
  registerOn,
  startInstance,
  type Instance,
} from '../../src/test-support/federation.js';
import {
  MODERATOR,
  SYSOP,
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  login,
  screenshot,
  watchContext,
} from './support.js';

interface ActionItem {
  kind: string;
  status: string;
  target: string;
}

let a: Instance;
test.beforeAll(async () => {
  a = await startInstance('a', 'sqlite');
});
test.afterAll(async () => {
  await a?.close();
});

test("a moderator sees the peers' actions, applied and refused, and reverses one here", async ({
  browser,
}) => {
  const sysop = await login(baseUrl(), SYSOP);
  const b = await apiCall<{ fingerprint: string; pubkey: string; nickname: string }>(
    baseUrl(),
    '/api/federation/identity/',
  );
  await apiCall(baseUrl(), '/api/federation/peers/', {
    token: sysop.token,
    body: { base_url: a.url, fingerprint: a.identity.fingerprint, trusted_for_moderation: true },
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
  const room = { name: 'Moderated commons', federation_room_id: 'moderated-commons' };
  await apiCall(baseUrl(), '/api/boards/', {
    token: sysop.token,
    body: { ...room, trusted_peers: [a.identity.fingerprint] },
  });
  const onA = await api<{ id: string }>(a, '/api/boards/', {
    method: 'POST',
    token: a.sysopToken,
    body: { ...room, trusted_peers: [b.fingerprint] },
  });
  const alice = await registerOn(a, 'alice');
  const spam = await api<{ id: string }>(a, '/api/messages/', {
    method: 'POST',
    token: alice,
    body: { board_id: onA.id, subject: 'Buy cheap watches', body: 'Not spam, honest.' },
  });
  await expect
    .poll(async () => (await fetch(`${baseUrl()}/api/messages/${spam.id}/`)).status)
    .toBe(200);

  await api(a, `/api/messages/${spam.id}/?reason=spam`, {
    method: 'DELETE',
    token: a.sysopToken,
  });
  // A knows an author B never saw: B refuses the correction ("author unknown here").
  const stranger = 'f'.repeat(64);
  await a.database.db
    .insertInto('remote_authors')
    .values({
      fingerprint: stranger,
      nickname: 'rude name',
      instance: 'elsewhere',
      avatar: null,
      avatar_mime: null,
      avatar_hash: null,
      profile_at: now,
      updated_at: now,
    })
    .execute();
  await api(a, '/api/moderation/profile_corrections/', {
    method: 'POST',
    token: a.sysopToken,
    body: { fingerprint: stranger, nickname: 'polite', reason: 'offensive nickname' },
  });
  const moderator = await login(baseUrl(), MODERATOR);
  await expect
    .poll(async () =>
      (
        await apiCall<{ items: ActionItem[] }>(baseUrl(), '/api/moderation/federated_actions/', {
          token: moderator.token,
        })
      ).items
        .filter((i) => i.target === spam.id || i.target === stranger)
        .map((i) => `${i.kind} ${i.status}`)
        .sort(),
    )
    .toEqual(['correct_profile refused', 'delete_message applied']);
  expect((await fetch(`${baseUrl()}/api/messages/${spam.id}/`)).status).toBe(404);

  const context = await browser.newContext();
  const watch = await watchContext(context);
  const page = await context.newPage();
  await logInThroughForm(page, MODERATOR);
  await page.getByRole('link', { name: 'Moderation' }).click();
  await page.getByRole('link', { name: "Peers' actions" }).click();
  const table = page.getByRole('table', { name: 'Moderation actions peers sent, newest first' });
  const deletion = table.getByRole('row').filter({ hasText: 'delete message' });
  await expect(deletion).toContainText(a.identity.nickname);
  await expect(deletion).toContainText(`root@${a.identity.nickname}`);
  await expect(deletion).toContainText('spam');
  await expect(deletion).toContainText('applied');
  const correction = table.getByRole('row').filter({ hasText: 'correct profile' });
  await expect(correction).toContainText('refused: author unknown here');
  await expect(correction.getByRole('button')).toHaveCount(0);
  await screenshot(page, 'federated-actions');

  await deletion.getByRole('button', { name: /^Reverse delete message/ }).click();
  await expect(page.getByText(/Reversed here: delete message/)).toBeVisible();
  await expect(deletion).toContainText('reversed here');
  await expect(deletion.getByRole('button')).toHaveCount(0);
  // Back on B with its author's signature; A, which is not told, keeps it deleted.
  const back = await apiCall<{ message: { subject: string; signature_valid: boolean } }>(
    baseUrl(),
    `/api/messages/${spam.id}/`,
  );
  expect(back.message).toMatchObject({ subject: 'Buy cheap watches', signature_valid: true });
  expect((await fetch(`${a.url}/api/messages/${spam.id}/`)).status).toBe(404);
  // The modlog on the same page says who reversed it.
  await expect(
    page.getByRole('table', { name: 'Moderation log, newest first' }).getByRole('row').nth(1),
  ).toContainText('reverse federated action');
  expectClean(watch);
  await context.close();
});
