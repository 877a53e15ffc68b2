// The private-messages API's shapes: a sealed letter as its reader sees it, sending and the boxes.
import { z } from 'zod';
import { pageOf } from '../../http/pagination.js';
import { AttachmentRef, MessagePost } from '../boards/schema.js';

const AvatarUrl = z.string().nullable().describe("a local party's avatar (null: none, or remote)");

export const PrivateMessageSchema = z
  .object({
    id: z.string(),
    from: z.object({
      fingerprint: z.string(),
      nickname: z.string(),
      user_id: z.string().nullable(),
      instance: z
        .string()
        .nullable()
        .describe('the instance a remote sender lives on (shown as nickname@instance)'),
      avatar_url: AvatarUrl,
    }),
    to: z.object({
      fingerprint: z.string(),
      user_id: z.string().nullable(),
      nickname: z.string().nullable(),
      instance: z.string().nullable().describe('the instance a remote recipient lives on'),
      avatar_url: AvatarUrl,
    }),
    reply_to: z
      .string()
      .nullable()
      .describe('the letter of the same conversation this one answers (sealed with the text)'),
    delivery: z
      .object({
        state: z.enum(['pending', 'delivered', 'refused']),
        error: z.string().nullable(),
      })
      .nullable()
      .describe(
        'a message to another instance: pending until that instance takes it, or refused (error says why)',
      ),
    subject: z.string(),
    body: z.string(),
    body_html: z.string(),
    attachments: z.array(AttachmentRef),
    created_at: z.string(),
    read_at: z.string().nullable(),
    signature_valid: z.boolean(),
    readable: z.boolean().describe('false: the stored message is damaged and cannot be opened'),
  })
  .meta({ id: 'PrivateMessage' });

export const PrivateMessagePost = z.strictObject({
  // A username, a key fingerprint, or name@instance (a user of a trusted peer).
  to: z.string().trim().min(1).max(320),
  subject: MessagePost.shape.subject,
  body: MessagePost.shape.body,
  attachments: MessagePost.shape.attachments,
  reply_to: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('a letter of your conversation with the recipient that this one answers'),
});

export const BoxQuery = z.strictObject({
  box: z.enum(['inbox', 'outbox']).default('inbox'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const BoxPage = pageOf(PrivateMessageSchema).extend({ unread: z.number() });

export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });

/** One side of a conversation: the person the caller writes with. */
export const ConversationParty = PrivateMessageSchema.shape.from.extend({
  nickname: z.string().nullable(),
});

export const ConversationSchema = z
  .object({
    with: ConversationParty,
    last_message: PrivateMessageSchema,
    unread: z.number().describe('received letters of this conversation not yet read'),
  })
  .meta({ id: 'Conversation' });

export const ConversationList = pageOf(ConversationSchema).extend({ unread: z.number() });

export const ConversationPage = pageOf(PrivateMessageSchema).describe(
  'letters oldest first; next_cursor continues with older ones',
);

export const ConversationQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const PartyParam = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});
