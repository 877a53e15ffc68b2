// The federation API's shapes: the instance identity peers fetch before trusting us.
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
