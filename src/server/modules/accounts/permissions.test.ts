// The one permission rule, action by action.
import { describe, expect, it } from 'vitest';
import { can, type Action, type BoardAccess } from './permissions.js';
import type { User } from './user.js';

const base: User = {
  id: 'u',
  username: 'u',
  nickname: 'u',
  timezone: 'UTC',
  pubkey: '',
  fingerprint: '',
  avatarHash: null,
  karma: 0,
  isSysop: false,
  isModerator: false,
  isAgent: false,
  isBanned: false,
  bannedUntil: null,
  banReason: null,
  canPost: true,
  canUpload: true,
  createdAt: 0,
};
const user = (patch: Partial<User>): User => ({ ...base, ...patch });
const allowed = (u: User) =>
  (['read', 'post', 'upload', 'upload_applet', 'moderate', 'admin'] as Action[]).filter((a) =>
    can(u, a, {}, 1000),
  );

describe('can', () => {
  it('lets a new user read, post and upload, but not publish applets, moderate or administer', () => {
    expect(allowed(user({}))).toEqual(['read', 'post', 'upload']);
  });

  it('requires karma 10 (or sysop) to publish applets', () => {
    expect(can(user({ karma: 9 }), 'upload_applet')).toBe(false);
    expect(can(user({ karma: 10 }), 'upload_applet')).toBe(true);
    expect(can(user({ karma: 50, canUpload: false }), 'upload_applet')).toBe(false);
  });

  it('honours can_post and can_upload', () => {
    expect(allowed(user({ canPost: false, canUpload: false }))).toEqual(['read']);
  });

  it('gives moderators moderation and sysops everything', () => {
    expect(allowed(user({ isModerator: true }))).toEqual(['read', 'post', 'upload', 'moderate']);
    expect(allowed(user({ isSysop: true }))).toEqual([
      'read',
      'post',
      'upload',
      'upload_applet',
      'moderate',
      'admin',
    ]);
  });

  it('denies a banned account everything, even a sysop, until a timed ban runs out', () => {
    expect(allowed(user({ isSysop: true, isBanned: true }))).toEqual([]);
    expect(allowed(user({ isBanned: true, bannedUntil: 2000 }))).toEqual([]);
    expect(allowed(user({ isBanned: true, bannedUntil: 500 }))).toEqual(['read', 'post', 'upload']);
  });

  const board = (
    readAccess: BoardAccess['readAccess'],
    postAccess: BoardAccess['postAccess'],
    isArchived = false,
  ) => ({
    board: { readAccess, postAccess, isArchived },
  });

  it('lets visitors read public boards and nothing else', () => {
    expect(can(null, 'read_board', board('public', 'members'))).toBe(true);
    expect(can(null, 'read_board', board('members', 'members'))).toBe(false);
    expect(can(null, 'post_to_board', board('public', 'public'))).toBe(false);
    expect(can(null, 'read')).toBe(false);
  });

  it('applies board read and post levels', () => {
    const member = user({});
    const moderator = user({ isModerator: true });
    expect(can(member, 'read_board', board('members', 'moderators'))).toBe(true);
    expect(can(member, 'post_to_board', board('members', 'moderators'))).toBe(false);
    expect(can(moderator, 'post_to_board', board('members', 'moderators'))).toBe(true);
    expect(can(member, 'read_board', board('moderators', 'moderators'))).toBe(false);
    expect(can(moderator, 'post_to_board', board('public', 'sysops'))).toBe(false);
    expect(can(user({ isSysop: true }), 'post_to_board', board('sysops', 'sysops'))).toBe(true);
  });

  it('lets nobody post to an archived board, or post without can_post, or act while banned', () => {
    expect(can(user({ isSysop: true }), 'post_to_board', board('public', 'members', true))).toBe(
      false,
    );
    expect(can(user({ canPost: false }), 'post_to_board', board('public', 'members'))).toBe(false);
    expect(can(user({ isBanned: true }), 'read_board', board('public', 'members'))).toBe(false);
    expect(can(user({}), 'read_board')).toBe(false);
  });
});
