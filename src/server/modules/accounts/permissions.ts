// The one permission rule of the BBS (spec: Permission System; docs/security.md, "Who may do what").
// Every service asks `can` (or `assertCan`) before it acts, so HTTP routes, the federation inbox,
// background services, the applet bridge and the CLI pass the same checks; routes only turn a
// request into an Actor.
import { forbidden, type AppError } from '../../http/errors.js';
import type { AccessLevel } from '../../../shared/accounts.js';
import type { User } from './user.js';

export type Action =
  // coarse gates (an account in good standing with the right flag)
  | 'read'
  | 'post'
  | 'upload'
  | 'upload_applet'
  | 'approve_applet'
  | 'moderate'
  | 'admin'
  // boards and messages
  | 'read_board'
  | 'post_to_board'
  | 'read_message'
  | 'delete_message'
  | 'report_message'
  | 'resolve_report'
  | 'admin_board'
  // shared room state of a board (realtime module)
  | 'read_room'
  | 'write_room'
  // the account itself and private messages
  | 'set_avatar'
  | 'send_private_message'
  | 'read_private_message'
  // moderation of people and keys, with rank rules
  | 'ban_user'
  | 'unban_user'
  | 'ban_pubkey'
  | 'unban_pubkey'
  | 'adjust_karma'
  // federation: the registry of trusted peer instances
  | 'manage_peers';

export const ACTIONS: readonly Action[] = [
  'read',
  'post',
  'upload',
  'upload_applet',
  'approve_applet',
  'moderate',
  'admin',
  'read_board',
  'post_to_board',
  'read_message',
  'delete_message',
  'report_message',
  'resolve_report',
  'admin_board',
  'read_room',
  'write_room',
  'set_avatar',
  'send_private_message',
  'read_private_message',
  'ban_user',
  'unban_user',
  'ban_pubkey',
  'unban_pubkey',
  'adjust_karma',
  'manage_peers',
];

export { ACCESS_LEVELS, type AccessLevel } from '../../../shared/accounts.js';

export interface BoardAccess {
  readAccess: AccessLevel;
  postAccess: AccessLevel;
  isArchived: boolean;
}

/** Karma an account needs before it may publish applets (DESIGN.md §9). */
export const APPLET_KARMA_THRESHOLD = 10;

/**
 * Who acts: a visitor without a session, or a user together with whether their key is banned on
 * this instance (a pubkey ban is looked up once, by `actorFor`, and stops everything that writes).
 * A federation peer will be a third kind.
 */
export type Actor = { kind: 'visitor' } | { kind: 'user'; user: User; pubkeyBanned: boolean };

export const VISITOR: Actor = { kind: 'visitor' };

/** The actor a User is when their key is known not to be banned (or it does not matter). */
export const userActor = (user: User, pubkeyBanned = false): Actor => ({
  kind: 'user',
  user,
  pubkeyBanned,
});

/** Moderation rank: a moderator or sysop acts only on people (and bans) of their rank or below. */
export type Rank = 0 | 1 | 2;
export const rankOf = (u: Pick<User, 'isSysop' | 'isModerator'>): Rank =>
  u.isSysop ? 2 : u.isModerator ? 1 : 0;

/** The thing acted on; an action whose resource is missing is refused (fail closed). */
export interface Resource {
  board?: BoardAccess;
  /** The author of a message; hidden: their key is banned here, so nobody is shown it. */
  author?: { id: string | null; hidden: boolean };
  /** The person a moderation action targets (for pubkey bans: the local owner of the key, if any). */
  target?: { id: string; isSysop: boolean; isModerator: boolean } | null;
  /** Who made the ban being lifted (null: the operator, via the CLI, or nobody known). */
  bannedBy?: { isSysop: boolean; isModerator: boolean } | null;
  /** The two parties of a private message. */
  parties?: { senderId: string | null; recipientId: string | null };
}

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

/** Actions a banned key may still take: reading, and taking its own words back. */
const ALLOWED_TO_BANNED_KEYS: ReadonlySet<Action> = new Set<Action>([
  'read',
  'read_board',
  'read_message',
  'read_room',
  'read_private_message',
  'delete_message',
]);

const toActor = (subject: Actor | User | null): Actor =>
  subject === null ? VISITOR : 'kind' in subject ? subject : userActor(subject);

/**
 * May `subject` (an Actor; a User stands for one whose key is not banned; null for a visitor) do
 * `action` on `resource`? A banned account may do nothing; a banned key may only read and delete
 * its own messages; visitors may only read public boards and their messages.
 */
export function can(
  subject: Actor | User | null,
  action: Action,
  resource: Resource = {},
  now = Date.now(),
): boolean {
  const actor = toActor(subject);
  const user = actor.kind === 'user' ? actor.user : null;
  if (user !== null && isBanActive(user, now)) return false;
  if (actor.kind === 'user' && actor.pubkeyBanned && !ALLOWED_TO_BANNED_KEYS.has(action))
    return false;
  const board = resource.board;
  switch (action) {
    case 'read_board':
    case 'read_room':
      return board !== undefined && reaches(user, board.readAccess);
    case 'read_message':
      return (
        board !== undefined &&
        resource.author !== undefined &&
        !resource.author.hidden &&
        reaches(user, board.readAccess)
      );
    default:
      break;
  }
  if (user === null) return false;
  const staff = user.isModerator || user.isSysop;
  switch (action) {
    case 'read':
      return true;
    case 'post':
    case 'send_private_message':
      return user.canPost;
    case 'upload':
      return user.canUpload;
    case 'set_avatar':
      return true;
    case 'upload_applet':
      return user.canUpload && (user.karma >= APPLET_KARMA_THRESHOLD || user.isSysop);
    case 'moderate':
    case 'approve_applet':
      return staff;
    case 'admin':
    case 'admin_board':
    case 'manage_peers':
      return user.isSysop;
    case 'post_to_board':
    case 'write_room':
      return (
        user.canPost &&
        board !== undefined &&
        !board.isArchived &&
        reaches(user, board.readAccess) &&
        reaches(user, board.postAccess)
      );
    case 'delete_message':
      return (
        board !== undefined &&
        resource.author !== undefined &&
        reaches(user, board.readAccess) &&
        (resource.author.id === user.id || staff)
      );
    case 'report_message':
      return (
        board !== undefined &&
        resource.author !== undefined &&
        !resource.author.hidden &&
        resource.author.id !== user.id &&
        reaches(user, board.readAccess)
      );
    case 'resolve_report':
      return staff && board !== undefined && reaches(user, board.readAccess);
    case 'read_private_message':
      return (
        resource.parties !== undefined &&
        (resource.parties.senderId === user.id || resource.parties.recipientId === user.id)
      );
    case 'ban_user':
    case 'adjust_karma':
      return (
        staff &&
        resource.target != null &&
        resource.target.id !== user.id &&
        rankOf(resource.target) <= rankOf(user)
      );
    case 'ban_pubkey':
      // target: the local account holding the key (null when no account here holds it).
      return (
        staff &&
        resource.target !== undefined &&
        (resource.target === null ||
          (resource.target.id !== user.id && rankOf(resource.target) <= rankOf(user)))
      );
    case 'unban_user':
    case 'unban_pubkey':
      // A ban made by the operator (CLI) or by a higher rank is lifted only by a sysop.
      return (
        staff &&
        resource.bannedBy !== undefined &&
        (resource.bannedBy === null ? user.isSysop : rankOf(resource.bannedBy) <= rankOf(user))
      );
  }
  return false;
}

/**
 * Throws the refusal when `can` says no: PUBKEY_BANNED when the actor's key is what stops them,
 * else the error `refusal` builds (a 403 naming the action by default).
 */
export function assertCan(
  subject: Actor | User | null,
  action: Action,
  resource: Resource = {},
  refusal: () => AppError = () => forbidden(`this account may not ${action.replaceAll('_', ' ')}`),
): void {
  if (can(subject, action, resource)) return;
  const actor = toActor(subject);
  if (
    actor.kind === 'user' &&
    actor.pubkeyBanned &&
    !isBanActive(actor.user) &&
    !ALLOWED_TO_BANNED_KEYS.has(action)
  )
    throw forbidden('your key is banned on this instance', 'PUBKEY_BANNED');
  throw refusal();
}
