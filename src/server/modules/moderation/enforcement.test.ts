// Bans and moderator limits on every path (issue #12), through the API on SQLite and PostgreSQL:
// a banned key cannot send private messages, upload, report or change its avatar; its messages
// and attachments are not served one by one either; a recipient's ignore list applies to private
// messages; moderators cannot ban a sysop's key, lift a sysop's bans, change their own karma, or
// work reports on boards they cannot read. Every refusal changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  injectUpload,
  postMessage,
  promote,
  registerUser,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardInput } from '../boards/schema.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

describe.each(DIALECTS)('bans and moderator limits on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let mod: Account;
  let alice: Account;
  let mallory: Account;
  let board: string;
  let staffBoard: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [sysop, mod, alice, mallory] = await registerUsers(t, ['sysop', 'mod', 'alice', 'mallory'], {
      sysop: 'sysop',
      mod: 'moderator',
    });
    board = (await t.ctx.boards.create(BoardInput.parse({ name: 'general' }))).id;
    staffBoard = (
      await t.ctx.boards.create(
        BoardInput.parse({ name: 'sysops', read_access: 'sysops', post_access: 'sysops' }),
      )
    ).id;
  });
  afterAll(() => t.close());

  const count = (table: 'private_messages' | 'reports' | 'attachments' | 'modlog') =>
    countRows(t, table);
  const post = (who: Account, boardId: string, subject: string, attachments?: string[]) =>
    postMessage(t, who.token, {
      board_id: boardId,
      subject,
      body: 'text',
      ...(attachments ? { attachments } : {}),
    });
  const upload = (who: Account, bytes: Buffer, filename: string) =>
    injectUpload(t, who.token, bytes, filename);
  const banKey = (by: Account, pubkey: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/moderation/banned_pubkeys/',
      headers: bearer(by.token),
      payload: { pubkey, reason: 'spam' },
    });
  const fingerprintOf = async (name: string) =>
    (await t.ctx.accounts.getUserByUsername(name)).fingerprint;

  it("hides a banned key's message and attachment, also when read one by one", async () => {
    const bytes = Buffer.from('mallory was here');
    const up = await upload(mallory, bytes, 'note.txt');
    expect(up.statusCode).toBe(201);
    const hash = up.json().data.content_hash as string;
    const id = await post(mallory, board, 'before the ban', [hash]);
    const read = () => t.app.inject({ url: `/api/messages/${id}/`, headers: bearer(alice.token) });
    const content = () =>
      t.app.inject({ url: `/api/content/stream/${hash}/`, headers: bearer(alice.token) });
    expect((await read()).statusCode).toBe(200);
    expect((await content()).statusCode).toBe(200);

    expect((await banKey(mod, await fingerprintOf('mallory'))).statusCode).toBe(201);
    expect((await read()).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/messages/${id}/` })).statusCode).toBe(404);
    expect((await content()).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/content/stream/${hash}/` })).statusCode).toBe(404);
  });

  it('stops a banned key from sending private messages, uploading, reporting and avatars', async () => {
    const aliceMessage = await post(alice, board, 'hello');
    const before = await Promise.all([
      count('private_messages'),
      count('reports'),
      count('attachments'),
    ]);
    const pm = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(mallory.token),
      payload: { to: 'alice', subject: 'hi', body: 'buy now' },
    });
    const up = await upload(mallory, Buffer.from('more spam'), 'spam.txt');
    const report = await t.app.inject({
      method: 'POST',
      url: `/api/messages/${aliceMessage}/report/`,
      headers: bearer(mallory.token),
      payload: { reason: 'noise' },
    });
    const avatar = await t.app.inject({
      method: 'PUT',
      url: '/api/user/avatar/',
      headers: { ...bearer(mallory.token), 'content-type': 'image/png' },
      payload: PNG,
    });
    for (const res of [pm, up, report, avatar]) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('PUBKEY_BANNED');
    }
    expect(
      await Promise.all([count('private_messages'), count('reports'), count('attachments')]),
    ).toEqual(before);
    expect((await t.ctx.accounts.getUserByUsername('mallory')).avatarHash).toBeNull();
    // Reading still works: a key ban silences, it does not lock the account out.
    const profile = await t.app.inject({
      url: '/api/user/profile/',
      headers: bearer(mallory.token),
    });
    expect(profile.statusCode).toBe(200);
  });

  it("keeps private messages from keys the recipient ignores out of the recipient's box", async () => {
    const bob = await registerUser(t.app, 'bob');
    const ignore = await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(alice.token),
      payload: { pubkey: await fingerprintOf('bob') },
    });
    expect(ignore.statusCode).toBe(201);
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(bob.token),
      payload: { to: 'alice', subject: 'are you there', body: 'hello?' },
    });
    // The sender is not told (ignoring cannot be probed) and keeps it in their outbox.
    expect(sent.statusCode).toBe(201);
    const id = sent.json().data.id as string;
    const inbox = await t.app.inject({
      url: '/api/private_messages/',
      headers: bearer(alice.token),
    });
    expect(inbox.json().data.items.map((m: { id: string }) => m.id)).not.toContain(id);
    const direct = await t.app.inject({
      url: `/api/private_messages/${id}/`,
      headers: bearer(alice.token),
    });
    expect(direct.statusCode).toBe(404);
    const outbox = await t.app.inject({
      url: '/api/private_messages/?box=outbox',
      headers: bearer(bob.token),
    });
    expect(outbox.json().data.items.map((m: { id: string }) => m.id)).toContain(id);
  });

  it("refuses a moderator a sysop's key, and lifting a sysop's user ban", async () => {
    const modlog = await count('modlog');
    const sysopKey = await banKey(mod, await fingerprintOf('sysop'));
    expect(sysopKey.statusCode).toBe(403);
    const ownKey = await banKey(mod, await fingerprintOf('mod'));
    expect(ownKey.statusCode).toBe(403);
    expect(await t.ctx.bannedPubkeys.isBanned(await fingerprintOf('sysop'))).toBe(false);
    expect(await count('modlog')).toBe(modlog);

    const carol = await registerUser(t.app, 'carol');
    const ban = await t.app.inject({
      method: 'POST',
      url: `/api/moderation/users/${carol.username}/ban/`,
      headers: bearer(sysop.token),
      payload: { reason: 'sysop decision' },
    });
    expect(ban.statusCode).toBe(200);
    const unban = (by: Account) =>
      t.app.inject({
        method: 'POST',
        url: `/api/moderation/users/${carol.username}/unban/`,
        headers: bearer(by.token),
      });
    expect((await unban(mod)).statusCode).toBe(403);
    expect((await t.ctx.accounts.getUserByUsername('carol')).isBanned).toBe(true);
    expect((await unban(sysop)).statusCode).toBe(200);
    expect((await t.ctx.accounts.getUserByUsername('carol')).isBanned).toBe(false);
  });

  it('lets nobody change their own karma, and only a sysop change a sysop’s', async () => {
    const karma = (by: Account, username: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/moderation/users/${username}/karma/`,
        headers: bearer(by.token),
        payload: { delta: 100, reason: 'well deserved' },
      });
    const own = await karma(mod, 'mod');
    expect(own.statusCode).toBe(403);
    expect((await karma(mod, 'sysop')).statusCode).toBe(403);
    expect((await karma(sysop, 'sysop')).statusCode).toBe(403);
    expect((await t.ctx.accounts.getUserByUsername('mod')).karma).toBe(0);
    expect((await t.ctx.accounts.getUserByUsername('sysop')).karma).toBe(0);
    expect((await karma(sysop, 'mod')).statusCode).toBe(200);
    expect((await t.ctx.accounts.getUserByUsername('mod')).karma).toBe(100);
  });

  it('keeps reports on boards a moderator cannot read out of their queue and hands', async () => {
    const secret = await post(sysop, staffBoard, 'sysop business');
    const reporter = await registerUser(t.app, 'dave');
    await promote(t, 'dave', 'sysop');
    const filed = await t.app.inject({
      method: 'POST',
      url: `/api/messages/${secret}/report/`,
      headers: bearer(reporter.token),
      payload: { reason: 'wrong place' },
    });
    expect(filed.statusCode).toBe(201);
    const reportId = filed.json().data.id as string;

    const queue = (by: Account) =>
      t.app.inject({ url: '/api/moderation/reports/', headers: bearer(by.token) });
    const ids = (res: Awaited<ReturnType<typeof queue>>) =>
      res.json().data.items.map((r: { id: string }) => r.id);
    expect(ids(await queue(mod))).not.toContain(reportId);
    expect(ids(await queue(sysop))).toContain(reportId);

    const resolve = await t.app.inject({
      method: 'POST',
      url: `/api/moderation/reports/${reportId}/resolve/`,
      headers: bearer(mod.token),
      payload: { action: 'uphold', delete_message: true },
    });
    expect(resolve.statusCode).toBe(404);
    const still = await t.app.inject({
      url: `/api/messages/${secret}/`,
      headers: bearer(sysop.token),
    });
    expect(still.statusCode).toBe(200);
    expect(ids(await queue(sysop))).toContain(reportId);
  });
});
