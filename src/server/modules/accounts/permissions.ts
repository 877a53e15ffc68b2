// The one permission rule of the BBS (spec: Permission System). Every route, the federation inbox,
// background services and the CLI ask `can`; nothing else decides who may do what.
import type { User } from './user.js';

export type Action = 'read' | 'post' | 'upload' | 'upload_applet' | 'moderate' | 'admin';

/** Karma an account needs before it may publish applets (DESIGN.md §9). */
export const APPLET_KARMA_THRESHOLD = 10;

export function isBanActive(
  user: Pick<User, 'isBanned' | 'bannedUntil'>,
  now = Date.now(),
): boolean {
  return user.isBanned && (user.bannedUntil === null || user.bannedUntil > now);
}

export function can(user: User, action: Action, now = Date.now()): boolean {
  if (isBanActive(user, now)) return false;
  switch (action) {
    case 'read':
      return true;
    case 'post':
      return user.canPost;
    case 'upload':
      return user.canUpload;
    case 'upload_applet':
      return user.canUpload && (user.karma >= APPLET_KARMA_THRESHOLD || user.isSysop);
    case 'moderate':
      return user.isModerator || user.isSysop;
    case 'admin':
      return user.isSysop;
  }
}
