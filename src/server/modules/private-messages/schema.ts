// The private-messages API's shapes: a sealed letter as its reader sees it, sending and the boxes.
import { z } from 'zod';
import { pageOf } from '../../http/pagination.js';
import { AttachmentRef, MessagePost } from '../boards/schema.js';

export const PrivateMessageSchema = z
  .object({
    id: z.string(),
    from: z.object({
      fingerprint: z.string(),
      nickname: z.string(),
      user_id: z.string().nullable(),
    }),
    to: z.object({ fingerprint: z.string(), user_id: z.string().nullable() }),
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
  to: z.string().trim().min(1).max(64),
  subject: MessagePost.shape.subject,
  body: MessagePost.shape.body,
  attachments: MessagePost.shape.attachments,
});

export const BoxQuery = z.strictObject({
  box: z.enum(['inbox', 'outbox']).default('inbox'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const BoxPage = pageOf(PrivateMessageSchema).extend({ unread: z.number() });

export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });
