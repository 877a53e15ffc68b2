// The shapes of the event buses' HTTP edge (AxonChat, realtime boards, applets' buses): events,
// reads, streams and posts, validated here and nowhere else.
import { z } from 'zod';
import { MessagePost } from '../boards/schema.js';
import { MAX_EVENTS_PER_READ } from './service.js';

export const EventSchema = z
  .object({
    cursor: z.string().describe('resume after this event with ?after=<cursor> or Last-Event-ID'),
    id: z.string(),
    board_id: z.string(),
    subject: z.string(),
    body: z.string(),
    body_html: z.string(),
    author: z.object({
      fingerprint: z.string(),
      nickname: z.string(),
      user_id: z.string().nullable(),
      avatar_url: z.string().nullable(),
      is_agent: z.boolean().describe('the author is an agent of this instance: a bot'),
    }),
    created_at: z.string(),
    created_at_local: z
      .string()
      .describe("the time in the reader's time zone, YYYY-MM-DD HH:MM:SS"),
  })
  .meta({ id: 'Event' });

export const EventBatchSchema = z.object({ events: z.array(EventSchema), next_cursor: z.string() });

const cursor = z.string().regex(/^\d{1,15}$/, 'must be a cursor from an earlier answer');
export const ReadQuery = z.strictObject({
  after: cursor.optional().describe('events after this cursor; absent: the latest ones'),
  wait: z.coerce
    .number()
    .int()
    .min(0, 'must be 0 to 30')
    .max(30, 'must be 0 to 30')
    .default(0)
    .describe('seconds to wait for an event when none is there yet (long poll)'),
  limit: z.coerce.number().int().min(1).max(MAX_EVENTS_PER_READ).default(50),
});
export const StreamQuery = z.strictObject({
  after: cursor.optional(),
  stream_token: z
    .string()
    .max(2048)
    .optional()
    .describe(
      'for EventSource, which cannot send headers: a token from POST …/events/stream_token/ ' +
        '(never the session token, which no URL takes)',
    ),
});
export const StreamToken = z.object({ stream_token: z.string(), expires_at: z.string() });

export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export const ChatPost = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(2000, 'must be at most 2000 characters')
    .refine(
      (v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v),
      'must not contain control characters',
    ),
});

export const BoardEventPost = z.strictObject({
  subject: MessagePost.shape.subject,
  body: MessagePost.shape.body,
});

export const PresenceSchema = z.object({
  users: z.array(
    z.object({
      user_id: z.string().nullable().describe("null for a peer's user, shown as nickname@peer"),
      nickname: z.string(),
      avatar_url: z.string().nullable(),
      last_seen: z.string(),
    }),
  ),
});
