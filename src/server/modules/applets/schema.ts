// The shapes of the applets' HTTP edge: applets, their events, and shared room state.
import { z } from 'zod';
import { MessagePost } from '../boards/schema.js';
import { ReadQuery } from '../chat/schema.js';
import { APPLET_LIBRARY_NAMES, MAX_REQUIRED_LIBRARIES } from '../../../shared/applet-libraries.js';

export const AppletSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    event_board_id: z.string(),
    created_at: z.string(),
    author_pubkey: z.string().nullable(),
    author_username: z.string().nullable(),
    code_manifest: z
      .object({
        content_hash: z.string(),
        size: z.number().nullable().describe('bytes of the code (null when not known)'),
      })
      .nullable(),
    category_name: z.string().nullable(),
    parameters: z.record(z.string(), z.unknown()),
    is_debug_mode: z.boolean(),
    handles_mime_types: z.array(z.string()),
    status: z.enum(['pending', 'approved', 'rejected']),
    review_reason: z.string().nullable().describe('what the reviewer said'),
    reviewed_at: z.string().nullable(),
  })
  .meta({ id: 'AppletSummary' });

export const AppletListQuery = z.strictObject({
  status: z
    .enum(['pending', 'approved', 'rejected'])
    .default('approved')
    .describe('pending and rejected: for those who approve applets'),
});

export const AppletReview = z.strictObject({
  status: z.enum(['approved', 'rejected']),
  reason: z
    .string()
    .trim()
    .max(500, 'must be at most 500 characters')
    .default('')
    .describe('why: shown to the owner and other reviewers'),
});

const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]*\/([A-Za-z0-9][\w!#$&^.+-]*|\*)$/;
export const APPLET_PARAMETERS_MAX_BYTES = 16 * 1024;

export const AppletList = z.object({ items: z.array(AppletSchema) });

export const AppletInput = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\p{L}\p{N} _.-]+$/u, 'may hold letters, digits, space and _ . -'),
  description: z.string().trim().max(2000).default(''),
  category_name: z
    .string()
    .trim()
    .min(1)
    .max(50)
    .regex(/^[\p{L}\p{N} _.&-]+$/u, 'may hold letters, digits, space and _ . & -')
    .optional()
    .describe('a category the applet is listed under ("Games", "Tools", "Viewers")'),
  code_hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a content hash (64 lowercase hex digits)')
    .optional()
    .describe('the content hash of the code, uploaded first with POST /api/content/upload/'),
  parameters: z
    .record(z.string(), z.json())
    .refine(
      (p) => JSON.stringify(p).length <= APPLET_PARAMETERS_MAX_BYTES,
      `must be at most ${APPLET_PARAMETERS_MAX_BYTES} bytes of JSON`,
    )
    .superRefine((p, check) => {
      const libraries = p.required_libraries;
      if (
        libraries !== undefined &&
        !(
          Array.isArray(libraries) &&
          libraries.length <= MAX_REQUIRED_LIBRARIES &&
          libraries.every((l) => (APPLET_LIBRARY_NAMES as unknown[]).includes(l))
        )
      )
        check.addIssue({
          code: 'custom',
          path: ['required_libraries'],
          message: `must list at most ${MAX_REQUIRED_LIBRARIES} of the libraries this instance ships: ${APPLET_LIBRARY_NAMES.join(', ')}`,
        });
      const asset = p.asset_package_hash;
      if (asset !== undefined && !(typeof asset === 'string' && /^[0-9a-f]{64}$/.test(asset)))
        check.addIssue({
          code: 'custom',
          path: ['asset_package_hash'],
          message: 'must be a content hash (64 lowercase hex digits)',
        });
    })
    .default({})
    .describe(
      'free-form settings; two are read by the runner: asset_package_hash (a ZIP you uploaded, ' +
        'handed to the applet by getAttachmentBlob) and required_libraries (names of libraries ' +
        'this instance ships, handed to the frame before the code)',
    ),
  is_debug_mode: z.boolean().default(false),
  handles_mime_types: z
    .array(z.string().max(100).regex(MEDIA_TYPE, 'must be a media type like text/csv'))
    .max(20)
    .default([]),
});

export const AppletEventPost = z.strictObject({
  subject: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  body: MessagePost.shape.body,
});

/** A room of a board (`id`: the board's or the applet's id). */
export const RoomParams = z.strictObject({
  id: z.string().min(1).max(64),
  room_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'may hold letters, digits and _ . : - (at most 100)'),
});

export const RoomStateQuery = z.strictObject({
  after_version: z.coerce.number().int().min(0).optional(),
  wait: ReadQuery.shape.wait,
});

export const RoomStateWrite = z.strictObject({
  version: z.number().int().min(0),
  state: z.json(),
});

export const RoomStateSchema = z
  .object({
    room_id: z.string(),
    version: z.number(),
    state: z.unknown(),
    updated_by: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'RoomState' });

export const AppletDataSchema = z
  .object({
    data: z.unknown().describe('what the applet saved for this user (null before the first save)'),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'AppletData' });

export const AppletDataWrite = z.strictObject({ data: z.json() });

const count = z.number().int().min(0).max(1_000_000_000);
export const ScoreInput = z.strictObject({
  score: z.number().int().min(0).max(1_000_000_000_000),
  wins: count.default(0),
  losses: count.default(0),
  draws: count.default(0),
  level: count.default(0),
});

export const HighScoreSchema = z
  .object({
    id: z.string(),
    nickname: z.string(),
    pubkey: z.string(),
    score: z.number(),
    wins: z.number(),
    losses: z.number(),
    draws: z.number(),
    level: z.number(),
    updated_at: z.string(),
    self_reported: z.literal(true).describe('reported by the applet in the player’s browser'),
  })
  .meta({ id: 'HighScore' });

export const HighScoreList = z.object({ items: z.array(HighScoreSchema) });

export const ScoreParams = z.strictObject({
  id: z.string().min(1).max(64),
  entry_id: z.string().max(64),
});
