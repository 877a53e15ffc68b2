// The one permission rule of the BBS (spec: Permission System). Every route, the federation inbox,
// background services and the CLI ask `can`; nothing else decides who may do what.
import type { AccessLevel } from '../../../shared/accounts.js';
import type { User } from './user.js';

export type Action =
  | 'read'
  | 'post'
  | 'upload'
  | 'upload_applet'
  | 'moderate'
  | 'admin'
  | 'read_board'
  | 'post_to_board';

export { ACCESS_LEVELS, type AccessLevel } from '../../../shared/accounts.js';

export interface BoardAccess {
  readAccess: AccessLevel;
  postAccess: AccessLevel;
  isArchived: boolean;
}

/** Karma an account needs before it may publish applets (DESIGN.md §9). */
export const APPLET_KARMA_THRESHOLD = 10;

export function isBanActive(
  user: Pick<User, 'isBanned' | 'bannedUntil'>,
  now = Date.now(),
): boolean {
  return user.isBanned && (user.bannedUntil === null || user.bannedUntil > now);
}

function reaches(user: User | null, level: AccessLevel): boolean {
  switch (level) {
    case 'public':
      return true;
    case 'members':
      return user !== null;
    case 'moderators':
      return user !== null && (user.isModerator || user.isSysop);
    case 'sysops':
      return user !== null && user.isSysop;
  }
}

/**
 * May `user` (null: a visitor who is not logged in) do `action`? Board actions need the board.
 * A banned account may do nothing; visitors may only read public boards.
 */
export function can(
  user: User | null,
  action: Action,
  target: { board?: BoardAccess } = {},
  now = Date.now(),
): boolean {
  if (user !== null && isBanActive(user, now)) return false;
  switch (action) {
    case 'read_board':
      return target.board !== undefined && reaches(user, target.board.readAccess);
    case 'post_to_board': {
      const board = target.board;
      return (
        user !== null &&
        user.canPost &&
        board !== undefined &&
        !board.isArchived &&
        reaches(user, board.readAccess) &&
        reaches(user, board.postAccess)
      );
    }
    default:
      break;
  }
  if (user === null) return false;
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
