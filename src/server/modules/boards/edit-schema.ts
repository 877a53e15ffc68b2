// The shapes of editing a message and of its history (edits.ts).
import { z } from 'zod';
import { pageOf } from '../../http/pagination.js';
import { MessagePost } from './schema.js';

export const MessageEditInput = z.strictObject({
  subject: MessagePost.shape.subject.optional().describe('unchanged when left out'),
  body: MessagePost.shape.body,
});

export const VersionPageQuery = z.strictObject({
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const MessageVersionSchema = z
  .object({
    version: z.number().describe('1: as first posted; then one per edit'),
    subject: z.string(),
    body: z.string(),
    body_html: z.string(),
    created_at: z.string().describe('when this version was written'),
    signature_valid: z.boolean().describe("whether the author's key signed exactly this version"),
    current: z.boolean().describe('the version the message shows now'),
  })
  .meta({ id: 'MessageVersion' });

export const MessageVersionPage = pageOf(MessageVersionSchema);
