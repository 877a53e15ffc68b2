// The one permission rule, action by action.
import { describe, expect, it } from 'vitest';
import { can, type Action } from './permissions.js';
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
    can(u, a, 1000),
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
});
