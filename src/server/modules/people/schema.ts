// The people API's shapes: a local user's public profile and who is online in the realtime rooms.
import { z } from 'zod';

export const FingerprintParam = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});

export const RecentPost = z.object({
  id: z.string(),
  board_id: z.string(),
  board_name: z.string(),
  thread_id: z.string(),
  subject: z.string(),
  created_at: z.string(),
});

export const PersonProfile = z
  .object({
    user_id: z.string(),
    fingerprint: z.string(),
    nickname: z.string(),
    avatar_url: z.string().nullable(),
    role: z.enum(['sysop', 'moderator', 'member']),
    joined_at: z.string(),
    post_count: z
      .number()
      .describe('their posts on the (non-realtime) boards the reader may read, deleted ones aside'),
    recent_posts: z.array(RecentPost).describe('the newest of those posts, at most 10'),
  })
  .meta({ id: 'PersonProfile' });

export const OnlinePerson = z.object({
  user_id: z.string().nullable().describe('null: a user of a peer sharing a room'),
  fingerprint: z.string().nullable(),
  nickname: z.string(),
  avatar_url: z.string().nullable(),
  rooms: z.array(z.object({ id: z.string(), name: z.string() })),
  last_seen: z.string(),
});

export const OnlineList = z
  .object({
    items: z.array(OnlinePerson),
    truncated: z.boolean().describe('true: more people are online than the list holds'),
  })
  .meta({ id: 'OnlineList' });
