// Content over HTTP: streaming multipart upload, download with Range/ETag, and manifest metadata.
// Uploaded bytes are never served as active content on the app's origin: only media types that
// cannot run are shown inline; everything else is an attachment of type application/octet-stream.
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BitSyncIntegrityError } from '../../../bitsync/index.js';
import type { AppContext } from '../../context.js';
import { authenticate, optionalUser } from '../../http/auth.js';
import { envelopeOf, ok } from '../../http/envelope.js';
import { AppError, fieldError } from '../../http/errors.js';
import { parseRange } from '../../http/range.js';
import { FORMAT_CHARACTERS, FORMAT_CHARACTERS_MESSAGE } from '../../../shared/format-characters.js';
import {
  AttachmentSchema,
  ContentMetadata,
  ContentStateSchema,
  HashParam,
  MediaToken,
  UploadHeaders,
  UploadLimits,
} from './schema.js';
import { MediaTokens } from './media-tokens.js';
import type { Attachment } from './service.js';

const INLINE_TYPES =
  /^(image\/(png|jpeg|gif|webp|avif)|video\/(mp4|webm|ogg)|audio\/(mpeg|ogg|wav|webm|flac|mp4)|text\/plain)$/;
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*$/;

const presentAttachment = (a: Attachment): z.output<typeof AttachmentSchema> => ({
  id: a.id,
  content_hash: a.contentHash,
  size: a.size,
  mime_type: a.mimeType,
  filename: a.filename,
  created_at: new Date(a.createdAt).toISOString(),
});

/** A file name safe to keep and to put in a header: no path, no control characters, ≤ 255 chars. */
export function cleanFilename(name: string | undefined): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? '';
  const clean = base
    .replace(/[\u0000-\u001f\u007f"]/g, '')
    .trim()
    .slice(0, 255);
  return clean === '' || clean === '.' || clean === '..' ? 'upload' : clean;
}

function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Starts the stream and waits for its first bytes, so a corrupt store answers an error, not a torn body. */
async function firstThenRest(stream: Readable): Promise<Readable> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await iterator.next();
  } catch (error) {
    if (error instanceof BitSyncIntegrityError) {
      throw new AppError(500, 'INTEGRITY_ERROR', 'the stored content failed its integrity check', {
        chunk: error.chunk?.hash ?? null,
      });
    }
    throw error;
  }
  return Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
  );
}

export async function contentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Clients check a file's size against this before sending it.
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/content/limits/',
    {
      schema: {
        tags: ['content'],
        summary: 'The largest upload this instance accepts',
        response: { 200: envelopeOf(UploadLimits) },
      },
    },
    async () => ok({ max_upload_bytes: ctx.config.uploadLimit }),
  );
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: ctx.config.uploadLimit, files: 1, fields: 0, parts: 2, headerPairs: 100 },
    });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/content/upload/',
      {
        schema: {
          tags: ['content'],
          summary:
            'Upload a file (multipart/form-data, one part named "file"); stored encrypted, deduplicated',
          description:
            'Optional header X-Content-SHA256: the lowercase hex SHA-256 of the file. With it the ' +
            'file is stored in one pass as it arrives and checked at the end (422 ' +
            'CONTENT_HASH_MISMATCH, nothing kept, if it differs); without it each chunk is ' +
            'encrypted and written as it arrives, and a second pass over the stored chunks adds ' +
            'their tags once the whole file is hashed.',
          headers: UploadHeaders,
          consumes: ['multipart/form-data'],
          response: { 201: envelopeOf(AttachmentSchema) },
        },
        bodyLimit: ctx.config.uploadLimit + 64 * 1024,
        config: { upload: true },
      },
      async (request, reply) => {
        const session = await authenticate(ctx, request);
        // The service's rule, asked before a byte of the file is read.
        await ctx.content.assertMayUpload(session.user);
        if (!request.isMultipart()) {
          throw new AppError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            'send the file as multipart/form-data in a part named "file"',
          );
        }
        const part = await request.file();
        if (part === undefined || part.fieldname !== 'file') {
          throw new AppError(400, 'VALIDATION_ERROR', 'body.file: is required', {
            fields: [{ field: 'body.file', message: 'is required' }],
          });
        }
        if (FORMAT_CHARACTERS.test(part.filename)) {
          throw fieldError('body.file', `the file name ${FORMAT_CHARACTERS_MESSAGE}`);
        }
        const mimeType = MEDIA_TYPE.test(part.mimetype)
          ? part.mimetype.toLowerCase()
          : 'application/octet-stream';
        const file = part.file;
        const limit = ctx.config.uploadLimit;
        // The parser ends a file that passes the limit as if it were complete (truncated): fail the
        // source instead, so the upload is abandoned before anything is recorded.
        const source = (async function* () {
          for await (const chunk of file) yield chunk as Buffer;
          if (file.truncated)
            throw new AppError(413, 'PAYLOAD_TOO_LARGE', `uploads may be at most ${limit} bytes`);
        })();
        const attachment = await ctx.content.upload(session.user, source, {
          filename: cleanFilename(part.filename),
          mimeType,
          declaredContentHash: request.headers['x-content-sha256'],
        });
        return reply.code(201).send(ok(presentAttachment(attachment)));
      },
    );
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const mediaTokens = new MediaTokens(ctx.keys.tokenKey);

  r.post(
    '/api/content/media_token/:hash/',
    {
      schema: {
        tags: ['content'],
        summary:
          'A ten-minute token that reads this one content, for <img>/<video> URLs ' +
          '(?media_token=); it ends with the session',
        params: HashParam,
        response: { 200: envelopeOf(MediaToken) },
      },
    },
    async (request) => {
      const session = await authenticate(ctx, request);
      // The same read rule as the content itself: no token for what the user may not read.
      await ctx.content.readable(session.user, request.params.hash);
      const issued = await mediaTokens.issue(session, request.params.hash);
      return ok({
        media_token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString(),
      });
    },
  );

  r.get(
    '/api/content/stream/:hash/',
    {
      schema: {
        tags: ['content'],
        summary:
          'The decrypted content, verified as it streams; honours Range (206/416) and If-None-Match',
        params: HashParam,
        querystring: z.strictObject({
          for_verification: z
            .string()
            .max(8)
            .optional()
            .describe('present: exactly the bytes whose SHA-256 is the hash'),
          media_token: z
            .string()
            .max(2048)
            .optional()
            .describe(
              'for <img>/<video>, which cannot send headers: a token from POST ' +
                '/api/content/media_token/{hash}/ for this hash (never the session token)',
            ),
        }),
      },
    },
    async (request, reply) => {
      const mediaToken = request.query.media_token;
      const user =
        mediaToken === undefined
          ? await optionalUser(ctx, request)
          : await mediaTokens.resolve(ctx.database.db, mediaToken, request.params.hash);
      const { manifest, filename, mimeType, isPublic } = await ctx.content.readable(
        user,
        request.params.hash,
      );
      const etag = `"${manifest.content_hash}"`;
      const verification = request.query.for_verification !== undefined;
      const inline = !verification && INLINE_TYPES.test(mimeType);
      void reply
        .header('ETag', etag)
        .header('Accept-Ranges', 'bytes')
        // Content is immutable, but who may read it is not: only public content is kept.
        .header('Cache-Control', isPublic ? 'public, max-age=86400' : 'no-store')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Security-Policy', "default-src 'none'; sandbox")
        .header(
          'Content-Disposition',
          contentDisposition(inline ? 'inline' : 'attachment', filename),
        )
        .type(inline ? mimeType : 'application/octet-stream');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();

      const range = verification ? undefined : parseRange(request.headers.range, manifest.size);
      if (range === 'unsatisfiable') {
        void reply.header('Content-Range', `bytes */${manifest.size}`);
        throw new AppError(
          416,
          'RANGE_NOT_SATISFIABLE',
          `the content is ${manifest.size} bytes long`,
        );
      }
      if (range === undefined) {
        void reply.header('Content-Length', String(manifest.size));
        if (manifest.size === 0) return reply.send(Buffer.alloc(0));
        return reply.send(await firstThenRest(await ctx.content.open(manifest)));
      }
      void reply
        .code(206)
        .header('Content-Range', `bytes ${range.start}-${range.end}/${manifest.size}`)
        .header('Content-Length', String(range.end - range.start + 1));
      return reply.send(await firstThenRest(await ctx.content.open(manifest, range)));
    },
  );

  r.get(
    '/api/content/state/:hash/',
    {
      schema: {
        tags: ['content'],
        summary:
          "Whether an attachment is here: complete, or the state of its fetch from peers (a remote message's attachment)",
        params: HashParam,
        response: { 200: envelopeOf(ContentStateSchema) },
      },
    },
    async (request) => {
      const user = await optionalUser(ctx, request);
      const state = await ctx.content.stateFor(user, request.params.hash);
      return ok({
        content_hash: request.params.hash,
        state: state.state,
        chunks_done: state.chunksDone,
        chunks_total: state.chunksTotal,
        last_error: state.lastError,
      });
    },
  );

  r.get(
    '/api/content/metadata/:hash/',
    {
      schema: {
        tags: ['content'],
        summary: "A content's manifest metadata (never its key envelopes)",
        params: HashParam,
        response: { 200: envelopeOf(ContentMetadata) },
      },
    },
    async (request) => {
      const user = await optionalUser(ctx, request);
      const { manifest, filename, mimeType } = await ctx.content.readable(
        user,
        request.params.hash,
      );
      return ok({
        content_hash: manifest.content_hash,
        size: manifest.size,
        chunk_size: manifest.chunk_size,
        chunks: manifest.chunks,
        created_at: manifest.created_at,
        filename,
        mime_type: mimeType,
      });
    },
  );
}
