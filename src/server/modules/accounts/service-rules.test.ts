// The services decide who may act, not the routes: called directly (as the CLI, the federation
// inbox or the applet bridge call them), each refuses a user without the right, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, registerUser, startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { BoardInput } from '../boards/schema.js';
import { listModlog } from '../moderation/modlog.js';
import type { User } from './user.js';

describe.each(DIALECTS)('service-layer permission rules on %s', (dialect) => {
  let t: TestApp;
  let member: User;
  let moderator: User;
  let sysop: User;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    await Promise.all(['member', 'moderator', 'sysop'].map((n) => registerUser(t.app, n)));
    await promote(t, 'moderator', 'moderator');
    await promote(t, 'sysop', 'sysop');
    member = await t.ctx.accounts.getUserByUsername('member');
    moderator = await t.ctx.accounts.getUserByUsername('moderator');
    sysop = await t.ctx.accounts.getUserByUsername('sysop');
  });
  afterAll(() => t.close());

  const refused = async (work: Promise<unknown>) =>
    expect(work).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
  const board = BoardInput.parse({ name: 'staff-only-rule' });
  const page = { limit: 10 };

  it('lets only sysops create and edit boards, list users, set flags and add applets', async () => {
    for (const by of [member, moderator]) {
      await refused(t.ctx.boards.create(board, by));
      await refused(t.ctx.accounts.listUsers(page, by));
      await refused(
        t.ctx.accounts.setFlags('member', {
          flags: { canPost: false },
          actor: { id: by.id, name: by.username },
          by,
        }),
      );
      await refused(t.ctx.applets.create({ name: 'x', description: '', ownerId: by.id }, by));
    }
    const created = await t.ctx.boards.create(board, sysop);
    await refused(t.ctx.boards.update(created.id, { description: 'mine now' }, moderator));
    expect((await t.ctx.accounts.listUsers(page, sysop)).items.length).toBe(3);
    expect((await t.ctx.accounts.getUserByUsername('member')).canPost).toBe(true);
  });

  it('lets only staff read the modlog and the pubkey bans, or ban and unban', async () => {
    const actor = { id: member.id, name: member.username };
    await refused(listModlog(t.ctx.database, page, member));
    await refused(t.ctx.bannedPubkeys.list(page, member));
    // A name that does not exist still answers 403 to a non-moderator: nothing is revealed.
    await refused(t.ctx.accounts.ban('nobody-here', { reason: 'x', actor, by: member }));
    await refused(t.ctx.accounts.unban('moderator', actor, member));
    await refused(
      t.ctx.accounts.adjustKarma('moderator', { delta: -5, reason: 'x', actor, by: member }),
    );
    await refused(t.ctx.bannedPubkeys.unban('0'.repeat(64), actor, member));
    await refused(
      t.ctx.reports.resolve(member, 'no-such-report', {
        action: 'dismiss',
        deleteMessage: false,
        note: null,
      }),
    );
    await expect(listModlog(t.ctx.database, page, moderator)).resolves.toBeDefined();
    await expect(t.ctx.bannedPubkeys.list(page, moderator)).resolves.toBeDefined();
  });

  it('lets only accounts with the right upload', async () => {
    await t.ctx.accounts.setFlags('member', {
      flags: { canUpload: false },
      actor: { id: sysop.id, name: sysop.username },
    });
    const barred = await t.ctx.accounts.getUserByUsername('member');
    await refused(t.ctx.content.assertMayUpload(barred));
    await expect(t.ctx.content.assertMayUpload(moderator)).resolves.toBeUndefined();
  });
});
