// How an account looks in answers: the profile the account itself, moderators and sysops see.
import type { z } from 'zod';
import { avatarUrl } from '../../../shared/accounts.js';
import type { Profile } from './schema.js';
import type { User } from './user.js';

export function toProfile(user: User): z.output<typeof Profile> {
  return {
    id: user.id,
    username: user.username,
    nickname: user.nickname,
    timezone: user.timezone,
    pubkey: user.pubkey,
    fingerprint: user.fingerprint,
    avatar_url: avatarUrl(user.id, user.avatarHash),
    karma: user.karma,
    is_sysop: user.isSysop,
    is_moderator: user.isModerator,
    is_agent: user.isAgent,
    can_post: user.canPost,
    can_upload: user.canUpload,
    created_at: new Date(user.createdAt).toISOString(),
  };
}
