// The boards, messages and search API's shapes.
import { z } from 'zod';
import { FORMAT_CHARACTERS, FORMAT_CHARACTERS_MESSAGE } from '../../../shared/format-characters.js';
import { pageOf } from '../../http/pagination.js';
import { ACCESS_LEVELS } from '../accounts/permissions.js';

export const SUBJECT_MAX = 255;
export const BODY_MAX_BYTES = 64 * 1024;

/** Control characters other than tab and newline: never part of a subject or a message. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !CONTROL_CHARACTERS.test(v), 'must not contain control characters');

/** A name or title: text without control characters, nor invisible format characters. */
const label = (max: number) =>
  text(max).refine((v) => !FORMAT_CHARACTERS.test(v), FORMAT_CHARACTERS_MESSAGE);

const THREAD_ORDERS = ['activity', 'created'] as const;

const fingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex key fingerprint');

export const BoardInput = z.strictObject({
  name: label(100).pipe(z.string().min(1, 'must not be empty')),
  description: text(2000).default(''),
  is_realtime: z.boolean().default(false),
  federation_room_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'may hold letters, digits and _ . : - (at most 100)')
    .nullable()
    .default(null),
  trusted_peers: z.array(fingerprint).max(100).default([]),
  federation_home: fingerprint
    .nullable()
    .default(null)
    .describe(
      "the peer whose board created the shared room (one of trusted_peers); null: this instance is the room's home",
    ),
  // Kept for good unless the sysop chooses a retention: posts never vanish by surprise.
  message_retention_days: z.number().int().min(1).max(36500).nullable().default(null),
  read_access: z.enum(ACCESS_LEVELS).default('public'),
  post_access: z.enum(ACCESS_LEVELS).default('members'),
  position: z.number().int().min(-1_000_000).max(1_000_000).default(0),
  thread_order: z
    .enum(THREAD_ORDERS)
    .default('activity')
    .describe('activity: threads bumped by their latest post; created: by their opening post'),
});

export const BoardPatch = z
  .strictObject({
    name: BoardInput.shape.name.optional(),
    description: text(2000).optional(),
    is_realtime: z.boolean().optional(),
    federation_room_id: BoardInput.shape.federation_room_id.unwrap().unwrap().nullable().optional(),
    trusted_peers: z.array(fingerprint).max(100).optional(),
    federation_home: fingerprint.nullable().optional(),
    message_retention_days: z.number().int().min(1).max(36500).nullable().optional(),
    read_access: z.enum(ACCESS_LEVELS).optional(),
    post_access: z.enum(ACCESS_LEVELS).optional(),
    position: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    is_archived: z.boolean().optional(),
    thread_order: z.enum(THREAD_ORDERS).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });

export const BoardSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    is_realtime: z.boolean(),
    federation_room_id: z.string().nullable(),
    trusted_peers: z.array(z.string()),
    federation_home: z.string().nullable(),
    message_retention_days: z.number().nullable(),
    read_access: z.enum(ACCESS_LEVELS),
    post_access: z.enum(ACCESS_LEVELS),
    is_archived: z.boolean(),
    position: z.number(),
    thread_order: z.enum(THREAD_ORDERS),
    can_post: z.boolean().describe('whether the caller may post here'),
    created_at: z.string(),
  })
  .meta({ id: 'Board' });

/** A board's activity, on the board list: counts and its latest post. */
export const BoardActivity = z.object({
  thread_count: z.number(),
  post_count: z.number(),
  last_post: z
    .object({
      id: z.string(),
      thread_id: z.string(),
      subject: z.string(),
      author: z.object({ nickname: z.string(), fingerprint: z.string() }),
      created_at: z.string(),
    })
    .nullable(),
});

export const BoardList = z.object({
  items: z.array(
    BoardSchema.extend({
      activity: BoardActivity,
      unread_threads: z
        .number()
        .nullable()
        .describe('threads with posts the signed-in reader has not read (null: not signed in)'),
    }),
  ),
});

export const AttachmentRef = z.object({
  content_hash: z.string(),
  size: z.number(),
  filename: z.string(),
  mime_type: z.string(),
});

export const MessageSchema = z
  .object({
    id: z.string(),
    board_id: z.string(),
    parent_id: z.string().nullable(),
    thread_id: z.string(),
    subject: z.string(),
    body: z.string().describe('plain text in the Markdown subset, exactly as written'),
    body_html: z.string().describe('body rendered to safe HTML (docs/api.md: the Markdown subset)'),
    author: z.object({
      fingerprint: z.string(),
      nickname: z.string().describe('a remote author (user_id null) shows as nickname@instance'),
      user_id: z.string().nullable(),
      instance: z
        .string()
        .nullable()
        .describe('a remote author: the instance they posted on (null for a local author)'),
      is_agent: z.boolean().describe('the author is an agent of this instance: a bot'),
      avatar_url: z
        .string()
        .nullable()
        .optional()
        .describe("the author's avatar, in a thread (null: none)"),
    }),
    attachments: z.array(AttachmentRef),
    reply_count: z.number().optional(),
    last_post: z
      .object({ id: z.string(), nickname: z.string(), created_at: z.string() })
      .optional()
      .describe("on a board's thread list: the thread's latest message"),
    created_at: z.string(),
    deleted: z
      .object({ by: z.enum(['author', 'moderator']), at: z.string() })
      .nullable()
      .describe(
        'set on a tombstone: an opening post deleted while its thread had replies (body and attachments gone)',
      ),
    edited_at: z
      .string()
      .nullable()
      .describe(
        'when its author last edited it (null: as first posted); versions: GET …/versions/',
      ),
  })
  .meta({ id: 'Message' });

/** A message in a board's page: without its rendered HTML, which only the thread view shows. */
export const MessageInPage = MessageSchema.omit({ body_html: true }).meta({ id: 'MessageInPage' });
export const MessagePage = pageOf(MessageInPage).extend({
  page_count: z
    .number()
    .optional()
    .describe('with `page`: how many pages of `limit` the list has for this reader'),
});

/** A message as a thread shows it, with whether its signature verifies. */
export const VerifiedMessage = MessageSchema.extend({ signature_valid: z.boolean() });
/** A message and one page of its thread, oldest first; next_cursor continues the thread. */
export const ThreadPage = z.object({
  message: VerifiedMessage,
  thread: z.array(VerifiedMessage),
  next_cursor: z.string().nullable(),
  page: z.number().nullable().describe('the numbered page shown; null when read by cursor'),
  page_count: z.number().describe('pages of `limit` posts the thread has for this reader'),
  post_count: z.number(),
  message_page: z.number().describe('the page that holds the requested message'),
  first_unread: z
    .object({ id: z.string(), page: z.number() })
    .nullable()
    .describe("a signed-in reader's first post not yet read here, and its page (null: none)"),
});

export const MessagePost = z.strictObject({
  board_id: z.string().min(1).max(64),
  subject: label(SUBJECT_MAX).pipe(z.string().min(1, 'must not be empty')),
  body: z
    .string()
    .refine(
      (v) => Buffer.byteLength(v, 'utf8') <= BODY_MAX_BYTES,
      `must be at most ${BODY_MAX_BYTES} bytes`,
    )
    .refine((v) => v.trim().length > 0, 'must not be empty')
    .refine((v) => !CONTROL_CHARACTERS.test(v), 'must not contain control characters'),
  parent_id: z.string().min(1).max(64).nullable().optional(),
  attachments: z
    .array(z.string().regex(/^[0-9a-f]{64}$/))
    .max(20)
    .optional(),
});

export const MessagePageQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  order: z.enum(['newest', 'oldest']).default('newest'),
  threads: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('true: thread starters only, with reply counts'),
  page: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe('a page number (not with cursor); the answer then says page_count'),
});

export const ThreadPageQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  page: z
    .union([z.literal('message'), z.coerce.number().int().min(1).max(1_000_000)])
    .optional()
    .describe(
      'a page number (past the last: the last), or `message`: the page that holds this message; not with cursor',
    ),
});

/** Threads whose unread posts a signed-in reader asks about (a board page's threads). */
export const ReadPositionsQuery = z.strictObject({
  threads: z
    .string()
    .max(100 * 65)
    .transform((v) => v.split(',').filter((id) => id !== ''))
    .pipe(z.array(z.string().min(1).max(64)).min(1, 'name at least one thread').max(100)),
});

/** For each thread asked about: how many of its posts the reader has not read, and the first. */
export const ReadPositionList = z.object({
  items: z.array(
    z.object({
      thread_id: z.string(),
      unread_count: z.number(),
      first_unread_id: z.string().nullable(),
    }),
  ),
});

/** A thread marked read through one of its posts. */
export const MarkedRead = z.object({
  thread_id: z.string(),
  unread_count: z.number().describe('posts of the thread after the one marked'),
});

/** A calendar day, YYYY-MM-DD (UTC), as its first instant in milliseconds. */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .transform((v, c) => {
    const at = Date.parse(`${v}T00:00:00Z`);
    if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== v) {
      c.addIssue({ code: 'custom', message: 'must be a date, YYYY-MM-DD' });
      return z.NEVER;
    }
    return at;
  });

export const SearchQuery = z.strictObject({
  q: z.string().trim().min(1, 'must not be empty').max(200),
  board: z.string().max(64).optional(),
  author: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200)
    .optional()
    .describe('a nickname as shown (nick@instance for a remote author) or a key fingerprint'),
  from: day.optional().describe('posted on or after this day (YYYY-MM-DD, UTC)'),
  to: day.optional().describe('posted on or before this day (YYYY-MM-DD, UTC)'),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export const SnippetSchema = z
  .array(z.object({ text: z.string(), match: z.boolean() }))
  .describe('text in pieces; `match` marks the searched words, to highlight');

export const SearchHitSchema = z.object({
  message: MessageSchema,
  rank: z.number(),
  subject_highlighted: SnippetSchema,
  snippet: SnippetSchema,
});
export const SearchPage = pageOf(SearchHitSchema);

export const DeletedMessage = z.object({
  deleted: z.string(),
  tombstone: z
    .boolean()
    .describe('true: an opening post with replies, now a tombstone that keeps its thread'),
});
