// Account rules the server enforces and the web client checks before sending: access levels,
// password length, avatar limits and the one form of an avatar's URL.

/** Who may read or post on a board, from the least to the most restricted. */
export const ACCESS_LEVELS = ['public', 'members', 'moderators', 'sysops'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

export const AVATAR_MAX_BYTES = 512 * 1024;
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** Where a user's avatar is served; the hash prefix changes the URL when the image changes. */
export function avatarUrl(userId: string, avatarHash: string | null): string | null {
  return avatarHash === null ? null : `/api/users/${userId}/avatar/?v=${avatarHash.slice(0, 16)}`;
}
