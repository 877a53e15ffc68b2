// BitSync v1, the public surface: content-addressed, encrypted chunk storage (DESIGN.md §6,
// docs/bitsync.md). Imports nothing from the server: routes, federation and the CLI all call this.
export type { AddedBlob, BlobSource, ChunkStore, PutOutcome, StoredBlob } from './chunk-store.js';
export { FileChunkStore } from './file-chunk-store.js';
export {
  bufferSource,
  fileSource,
  type ContentSource,
  type ReopenableSource,
} from './content-source.js';
export {
  createContent,
  type CreateContentOptions,
  type CreatedContent,
  type FixedKeyMaterial,
} from './create.js';
export { contentChunks, readContent, type ByteRange, type ReadContentOptions } from './read.js';
export {
  verifyContent,
  type ChunkProblem,
  type VerifyContentOptions,
  type VerifyReport,
} from './verify.js';
export {
  collectGarbage,
  DEFAULT_BLOB_GRACE_MS,
  DEFAULT_SCRATCH_GRACE_MS,
  type CollectGarbageOptions,
  type GarbageReport,
} from './gc.js';
export {
  fingerprintOfPrivateKey,
  openEnvelope,
  rekeyManifest,
  revokeEnvelope,
  sealEnvelope,
  withEnvelopes,
  type Envelope,
  type OpeningKey,
  type RecipientKey,
} from './envelope.js';
export {
  manifestSchema,
  parseManifest,
  serializeManifest,
  validateManifest,
  validateManifestMetadata,
  type Manifest,
  type ManifestMetadata,
} from './manifest.js';
export * from './errors.js';
export {
  BITSYNC_VERSION,
  CHUNK_SIZE,
  chunkAdditionalData,
  chunkCount,
  isHexSha256,
  MAX_BLOB_BYTES,
} from './format.js';
