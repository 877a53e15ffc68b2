// The federation API's shapes: the instance identity peers fetch before trusting us, remote
// authors, and the moderation actions peers sent as local moderators see them.
import { z } from 'zod';

export const InstanceIdentity = z
  .object({
    pubkey: z.string(),
    fingerprint: z.string(),
    nickname: z.string(),
    base_url: z.string().nullable(),
  })
  .meta({ id: 'InstanceIdentity' });

/** A remote author as this instance knows them: never a local user (docs/federation.md). */
export const RemoteAuthor = z
  .object({
    fingerprint: z.string(),
    nickname: z.string().describe('as the author last signed it'),
    instance: z.string().describe('the instance the author posts on, as our peers vouch'),
    display_name: z.string().describe('nickname@instance: how every screen shows the author'),
    avatar_url: z.string().nullable(),
    bio: z.string().nullable().describe('federated profiles carry no bio yet: always null'),
    profile_at: z.string().nullable().describe('created_at of the signed profile kept; null: none'),
    message_count: z.number().describe('their messages here that the reader may see'),
  })
  .meta({ id: 'RemoteAuthor' });

export const FingerprintParam = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex key fingerprint'),
});

/** A FederatedAction a peer sent, as local moderators review it. */
export const ActionSchema = z
  .object({
    id: z.string(),
    peer: z.object({ fingerprint: z.string(), nickname: z.string() }),
    moderator: z.object({ fingerprint: z.string(), nickname: z.string() }),
    kind: z.string(),
    target: z.string(),
    reason: z.string(),
    status: z.enum(['applied', 'refused', 'reversed']),
    refusal: z.string().nullable(),
    reversed_by: z.string().nullable(),
    reversed_at: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'FederatedAction' });

export const ReverseBody = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(500).default('reversed here'),
});

export const ProfileCorrectionBody = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be a key fingerprint'),
  nickname: z.string().trim().min(1, 'must not be empty').max(50),
  clear_avatar: z.boolean().default(false),
  reason: z.string().trim().min(1, 'must not be empty').max(500),
});

export const ProfileCorrectionSchema = z.object({
  fingerprint: z.string(),
  nickname: z.string(),
  clear_avatar: z.boolean(),
});
