// The User as services see it: rows mapped once, booleans normalised across dialects.
import type { UserRow } from '../../db/schema.js';

export interface User {
  id: string;
  username: string;
  nickname: string;
  timezone: string;
  pubkey: string;
  fingerprint: string;
  avatarHash: string | null;
  karma: number;
  isSysop: boolean;
  isModerator: boolean;
  isAgent: boolean;
  isBanned: boolean;
  bannedUntil: number | null;
  banReason: string | null;
  canPost: boolean;
  canUpload: boolean;
  createdAt: number;
}

/** The columns a User is read from: never the sealed keys, the verifier or the avatar bytes. */
export const USER_COLUMNS = [
  'id',
  'username',
  'nickname',
  'timezone',
  'pubkey',
  'fingerprint',
  'avatar_hash',
  'karma',
  'is_sysop',
  'is_moderator',
  'is_agent',
  'is_banned',
  'banned_until',
  'ban_reason',
  'can_post',
  'can_upload',
  'created_at',
] as const;

export type UserColumns = Pick<UserRow, (typeof USER_COLUMNS)[number]>;

export function toUser(row: UserColumns): User {
  return {
    id: row.id,
    username: row.username,
    nickname: row.nickname,
    timezone: row.timezone,
    pubkey: row.pubkey,
    fingerprint: row.fingerprint,
    avatarHash: row.avatar_hash,
    karma: row.karma,
    isSysop: Boolean(row.is_sysop),
    isModerator: Boolean(row.is_moderator),
    isAgent: Boolean(row.is_agent),
    isBanned: Boolean(row.is_banned),
    bannedUntil: row.banned_until,
    banReason: row.ban_reason,
    canPost: Boolean(row.can_post),
    canUpload: Boolean(row.can_upload),
    createdAt: row.created_at,
  };
}
