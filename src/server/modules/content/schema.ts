// The content API's shapes: uploads, the upload limit, a content's manifest metadata and media tokens.
import { z } from 'zod';

const contentHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex content hash');

export const AttachmentSchema = z
  .object({
    id: z.string(),
    content_hash: z.string(),
    size: z.number(),
    mime_type: z.string(),
    filename: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'Attachment' });

export const UploadLimits = z.object({ max_upload_bytes: z.number() });

export const UploadHeaders = z.object({
  'x-content-sha256': z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the file')
    .optional(),
});

export const HashParam = z.strictObject({ hash: contentHash });

export const ContentMetadata = z.object({
  content_hash: z.string(),
  size: z.number(),
  chunk_size: z.number(),
  chunks: z.array(z.string()),
  created_at: z.string(),
  filename: z.string(),
  mime_type: z.string(),
});

export const MediaToken = z.object({ media_token: z.string(), expires_at: z.string() });

export const ContentStateSchema = z
  .object({
    content_hash: z.string(),
    state: z
      .enum(['complete', 'pending', 'unreachable', 'failed', 'refused', 'absent'])
      .describe(
        'complete: stored here and readable; pending: its chunks are being fetched from peers; ' +
          'unreachable: no peer that has it answers (retried with backoff); failed: a chunk or ' +
          "the whole failed verification; refused: past the sending peer's limits; absent: not " +
          'announced here',
      ),
    chunks_done: z.number(),
    chunks_total: z.number(),
    last_error: z.string().nullable(),
  })
  .meta({ id: 'ContentState' });
