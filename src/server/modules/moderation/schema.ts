// The moderation API's shapes: user and pubkey bans, karma, reports and the moderation log.
import { z } from 'zod';
import { PageQuery, Profile } from '../accounts/schema.js';

const reason = z.string().trim().min(1, 'must not be empty').max(500);
const durationSeconds = z
  .number()
  .int()
  .min(60, 'must be at least 60 seconds')
  .max(100 * 365 * 24 * 3600)
  .nullable()
  .default(null)
  .describe('How long the ban lasts; null or absent bans for good');

export const REPORT_STATUSES = ['open', 'upheld', 'dismissed'] as const;

export const UsernameParam = z.strictObject({ username: z.string().min(1).max(32) });
export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export const UserBanBody = z.strictObject({ reason, duration_seconds: durationSeconds });
export const BannedUser = Profile.extend({
  is_banned: z.boolean(),
  banned_until: z.string().nullable(),
});

export const PubkeyBanBody = z.strictObject({
  pubkey: z.string().min(1).max(4096),
  reason,
  duration_seconds: durationSeconds,
});

export const BannedPubkeySchema = z
  .object({
    fingerprint: z.string(),
    pubkey: z.string().nullable(),
    reason: z.string(),
    banned_by: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .meta({ id: 'BannedPubkey' });

export const KarmaBody = z.strictObject({
  delta: z
    .number()
    .int()
    .min(-1000)
    .max(1000)
    .refine((v) => v !== 0, 'must not be 0'),
  reason,
});

export const ReportBody = z.strictObject({ reason });
export const ReportQuery = PageQuery.extend({
  status: z.enum(REPORT_STATUSES).default('open'),
});
export const ResolveBody = z.strictObject({
  action: z.enum(['uphold', 'dismiss']),
  delete_message: z.boolean().default(false),
  note: z.string().trim().max(500).nullable().default(null),
});

export const ReportSchema = z
  .object({
    id: z.string(),
    message_id: z.string(),
    board_id: z.string(),
    reporter_id: z.string(),
    reason: z.string(),
    snapshot: z.object({
      subject: z.string(),
      body: z.string(),
      author_fingerprint: z.string(),
      author_nickname: z.string(),
    }),
    status: z.enum(REPORT_STATUSES),
    resolved_by: z.string().nullable(),
    resolution_note: z.string().nullable(),
    resolved_at: z.string().nullable(),
    message_exists: z.boolean(),
    created_at: z.string(),
    reporter: z
      .object({ id: z.string(), username: z.string(), nickname: z.string() })
      .nullable()
      .describe('Who reported it; null once their account is gone'),
    author_username: z
      .string()
      .nullable()
      .describe("The author's local account (to ban by name); null for a remote author"),
  })
  .meta({ id: 'Report' });

/** Most reports one bulk resolution takes (a page of the queue at the largest). */
const BULK_RESOLVE_LIMIT = 100;

export const BulkResolveBody = ResolveBody.extend({
  report_ids: z.array(z.string().min(1).max(64)).min(1).max(BULK_RESOLVE_LIMIT),
});
export const BulkResolution = z.object({
  resolved: z.array(ReportSchema),
  skipped: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })),
});

export const ModlogSchema = z
  .object({
    id: z.string(),
    actor: z.object({ id: z.string().nullable(), name: z.string() }),
    action: z.string(),
    target_type: z.string(),
    target_id: z.string(),
    reason: z.string(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .meta({ id: 'ModlogEntry' });
