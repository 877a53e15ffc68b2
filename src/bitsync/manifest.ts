// The manifest: what a content is (hash, size, chunk hashes), who may read it (envelopes) and what it
// is called. Manifests arrive from peers, so parsing is strict and every refusal names its field.
import { z } from 'zod';
import { ManifestFormatError, type ManifestIssue } from './errors.js';
import { BITSYNC_VERSION, CHUNK_SIZE, chunkCount } from './format.js';

const hexSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');

// RSA-OAEP output is as long as the modulus: 256 bytes (RSA-2048) to 1024 bytes (RSA-8192) covers any
// key a peer might hold; Axon's own keys give 384 (RSA-3072).
const MIN_ENVELOPE_BYTES = 256;
const MAX_ENVELOPE_BYTES = 1024;
const envelope = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
    'must be padded standard base64',
  )
  .refine((value) => {
    const bytes = (value.length / 4) * 3 - (value.match(/=+$/)?.[0].length ?? 0);
    return bytes >= MIN_ENVELOPE_BYTES && bytes <= MAX_ENVELOPE_BYTES;
  }, `must decode to ${MIN_ENVELOPE_BYTES}–${MAX_ENVELOPE_BYTES} bytes (an RSA-OAEP ciphertext)`);

// Neither field is covered by any hash or signature of the manifest itself (the signed federated
// object carries its own copy), so they are kept to shapes that are safe to put in a header.
const filename = z
  .string()
  .min(1)
  .max(255)
  .refine((value) => !/[\u0000-\u001f\u007f/\\]/.test(value), {
    message: 'must not contain control characters or path separators',
  });
const mimeType = z
  .string()
  .max(255)
  .regex(
    /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;\s*[\w!#$&^.+-]+=(?:[\w!#$&^.+-]+|"[^"\\\u0000-\u001f]*"))*$/,
    'must be a media type such as image/jpeg',
  );

export const manifestMetadataSchema = z.strictObject({ filename, mime_type: mimeType });

export const manifestSchema = z
  .strictObject({
    version: z.literal(BITSYNC_VERSION),
    content_hash: hexSha256,
    size: z.int().nonnegative(),
    chunk_size: z.literal(CHUNK_SIZE),
    chunks: z.array(hexSha256),
    encrypted_aes_keys: z
      .record(hexSha256, envelope)
      .refine((envelopes) => Object.keys(envelopes).length > 0, 'must hold at least one envelope'),
    created_at: z.iso.datetime({ message: 'must be an ISO 8601 UTC timestamp' }),
    metadata: manifestMetadataSchema,
  })
  .superRefine((manifest, context) => {
    const expected = chunkCount(manifest.size);
    if (manifest.chunks.length !== expected) {
      context.addIssue({
        code: 'custom',
        path: ['chunks'],
        message: `a size of ${manifest.size} needs ${expected} chunks, not ${manifest.chunks.length}`,
      });
    }
    // Distinct random nonces make every blob distinct; a repeated hash can only be a forgery.
    const seen = new Set<string>();
    manifest.chunks.forEach((hash, index) => {
      if (seen.has(hash)) {
        context.addIssue({ code: 'custom', path: ['chunks', index], message: 'repeats a chunk' });
      }
      seen.add(hash);
    });
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestMetadata = z.infer<typeof manifestMetadataSchema>;

/** Validates an already-decoded manifest; throws ManifestFormatError listing every issue. */
export function validateManifest(value: unknown): Manifest {
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ManifestFormatError(issuesOf(result.error, []));
}

/** Validates the metadata given for new content, with the issues' paths as in a manifest. */
export function validateManifestMetadata(value: unknown): ManifestMetadata {
  const result = manifestMetadataSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ManifestFormatError(issuesOf(result.error, ['metadata']));
}

function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[]): ManifestIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses manifest JSON from an untrusted source (a peer, an import). */
export function parseManifest(json: string | Uint8Array): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  } catch (error) {
    throw new ManifestFormatError([
      { path: '', message: `not JSON (${error instanceof Error ? error.message : String(error)})` },
    ]);
  }
  return validateManifest(value);
}

/** The manifest as JSON, fields in the order DESIGN.md §6 shows them. */
export function serializeManifest(manifest: Manifest): string {
  const ordered: Manifest = {
    version: manifest.version,
    content_hash: manifest.content_hash,
    size: manifest.size,
    chunk_size: manifest.chunk_size,
    chunks: manifest.chunks,
    encrypted_aes_keys: manifest.encrypted_aes_keys,
    created_at: manifest.created_at,
    metadata: { filename: manifest.metadata.filename, mime_type: manifest.metadata.mime_type },
  };
  return JSON.stringify(ordered);
}
