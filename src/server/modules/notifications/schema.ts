// The notifications API's shapes: a notification, the list, the live feed's answer, watching.
import { z } from 'zod';
import { pageOf } from '../../http/pagination.js';
import { Profile } from '../accounts/schema.js';

export const NotificationSchema = z
  .object({
    id: z.string(),
    kind: z
      .enum(['reply', 'thread_reply', 'mention', 'private_message'])
      .describe(
        'reply: to your post; thread_reply: in a thread you watch; mention: @you; private_message: a letter to you',
      ),
    message_id: z.string().nullable().describe('the post, for every kind but private_message'),
    private_message_id: z.string().nullable(),
    board_id: z.string().nullable(),
    thread_id: z.string().nullable(),
    actor: z.object({
      fingerprint: z.string(),
      nickname: z.string().describe('nickname@instance for a user of another instance'),
      user_id: z.string().nullable(),
    }),
    subject: z.string().describe("the post's subject; empty for a private message (sealed)"),
    created_at: z.string(),
    read_at: z.string().nullable(),
  })
  .meta({ id: 'Notification' });

export const NotificationQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only the unread ones'),
});

export const NotificationPage = pageOf(NotificationSchema).extend({ unread: z.number() });

export const LiveQuery = z.strictObject({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('the version last seen; omitted: answer at once'),
  wait: z.coerce.number().int().min(0).max(30).default(0),
});

export const LiveState = z
  .object({
    version: z.number().describe('moves with every change below; send it back as `after`'),
    unread: z.number().describe('unread notifications'),
    unread_private_messages: z.number(),
    user: Profile.describe('the account as it is now: roles and rights included'),
  })
  .meta({ id: 'LiveState' });

export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

export const ThreadWatch = z
  .object({
    thread_id: z.string().describe("the thread's opening post"),
    watching: z.boolean(),
    chosen: z.boolean().describe('false: the default (you watch the threads you opened)'),
  })
  .meta({ id: 'ThreadWatch' });

export const ThreadWatchPut = z.strictObject({ watching: z.boolean() });
