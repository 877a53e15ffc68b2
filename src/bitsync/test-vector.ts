// The published BitSync v1 test vector (docs/bitsync-test-vector.json): its deterministic inputs,
// and how it is built with this library. Other implementations check themselves against the file.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fingerprintOf, generateRsaKeyPair } from '../crypto/keys.js';
import type { ReopenableSource } from './content-source.js';
import { createContent } from './create.js';
import { FileChunkStore } from './file-chunk-store.js';
import { CHUNK_SIZE, chunkAdditionalData, chunkPlaintextLength } from './format.js';
import type { Manifest, ManifestMetadata } from './manifest.js';

/** Two full chunks and a short third, so both chunk lengths and the boundary are exercised. */
export const VECTOR_SIZE = 2 * CHUNK_SIZE + 1000;
export const VECTOR_CREATED_AT = '2026-01-01T00:00:00.000Z';
export const VECTOR_METADATA: ManifestMetadata = {
  filename: 'bitsync-test-vector.bin',
  mime_type: 'application/octet-stream',
};
/** Bytes shown at each end of a blob: the nonce and first ciphertext, the last ciphertext and tag. */
const BLOB_EDGE_BYTES = 64;

export const VECTOR_RULES = {
  plaintext: 'byte j of the plaintext is j mod 251 (j = 0 … size − 1)',
  dek: 'SHA-256 of the ASCII string "axon-bitsync-v1 test vector: dek"',
  nonce:
    'chunk i: the first 12 bytes of SHA-256 of the ASCII string "axon-bitsync-v1 test vector: nonce <i>", i in decimal',
} as const;

/** Byte j is j mod 251: a prime period, so no two chunks share a plaintext. */
export function vectorPlaintext(size = VECTOR_SIZE): ReopenableSource {
  return {
    async *open() {
      const PIECE = 65_536;
      for (let offset = 0; offset < size; offset += PIECE) {
        const piece = Buffer.allocUnsafe(Math.min(PIECE, size - offset));
        for (let j = 0; j < piece.length; j++) piece[j] = (offset + j) % 251;
        yield piece;
      }
    },
  };
}

export function vectorDek(): Buffer {
  return createHash('sha256').update('axon-bitsync-v1 test vector: dek', 'ascii').digest();
}

export function vectorNonce(index: number): Buffer {
  return createHash('sha256')
    .update(`axon-bitsync-v1 test vector: nonce ${index}`, 'ascii')
    .digest()
    .subarray(0, 12);
}

export interface VectorChunk {
  index: number;
  nonce_hex: string;
  additional_data: string;
  plaintext_length: number;
  blob_length: number;
  /** SHA-256 of the whole blob: its name in the store and in the manifest. */
  chunk_hash: string;
  tag_hex: string;
  blob_head_base64: string;
  blob_tail_base64: string;
  /** The whole blob, given for the short last chunk only (the others are 512 KiB). */
  blob_base64?: string;
}

export interface TestVector {
  about: string;
  rules: typeof VECTOR_RULES;
  rsa_key: { fingerprint: string; public_key_pem: string; private_key_pkcs8_pem: string };
  dek_hex: string;
  plaintext: { size: number; rule: string };
  content_hash: string;
  chunks: VectorChunk[];
  manifest: Manifest;
}

export interface VectorKey {
  publicKeyPem: string;
  privateKeyPem: string;
}

export async function buildTestVector(key: VectorKey): Promise<TestVector> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-bitsync-vector-'));
  try {
    const store = await FileChunkStore.open(root);
    const { manifest } = await createContent({
      store,
      source: vectorPlaintext(),
      metadata: VECTOR_METADATA,
      instanceKey: key.publicKeyPem,
      createdAt: new Date(VECTOR_CREATED_AT),
      fixedKeyMaterial: { dek: vectorDek(), nonce: vectorNonce },
    });
    const chunks: VectorChunk[] = [];
    for (const [index, hash] of manifest.chunks.entries()) {
      const blob = await store.get(hash);
      if (blob === undefined) throw new Error(`chunk ${index} was not stored`);
      const last = index === manifest.chunks.length - 1;
      chunks.push({
        index,
        nonce_hex: vectorNonce(index).toString('hex'),
        additional_data: chunkAdditionalData(manifest.content_hash, index).toString('ascii'),
        plaintext_length: chunkPlaintextLength(manifest.size, index),
        blob_length: blob.length,
        chunk_hash: hash,
        tag_hex: blob.subarray(blob.length - 16).toString('hex'),
        blob_head_base64: blob.subarray(0, BLOB_EDGE_BYTES).toString('base64'),
        blob_tail_base64: blob.subarray(blob.length - BLOB_EDGE_BYTES).toString('base64'),
        ...(last ? { blob_base64: blob.toString('base64') } : {}),
      });
    }
    return {
      about:
        'BitSync v1 test vector (docs/bitsync.md). Every value but the RSA key and its envelope follows from the rules; RSA-OAEP is randomized, so the envelope is one valid encryption of the DEK, to be checked by decrypting it.',
      rules: VECTOR_RULES,
      rsa_key: {
        fingerprint: fingerprintOf(key.publicKeyPem),
        public_key_pem: key.publicKeyPem,
        private_key_pkcs8_pem: key.privateKeyPem,
      },
      dek_hex: vectorDek().toString('hex'),
      plaintext: { size: manifest.size, rule: VECTOR_RULES.plaintext },
      content_hash: manifest.content_hash,
      chunks,
      manifest,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Rewrites the vector file. The RSA key is kept from the existing file unless `newKey` is set (or
 * there is no file), so a regeneration changes only what the rules changed, plus the envelope.
 */
export async function regenerateTestVector(file: string, newKey = false): Promise<TestVector> {
  let key: VectorKey | undefined;
  if (!newKey) {
    try {
      const existing = JSON.parse(await readFile(file, 'utf8')) as TestVector;
      key = {
        publicKeyPem: existing.rsa_key.public_key_pem,
        privateKeyPem: existing.rsa_key.private_key_pkcs8_pem,
      };
    } catch {
      key = undefined;
    }
  }
  if (key === undefined) {
    const pair = await generateRsaKeyPair();
    const privateKey = createPrivateKey({ key: pair.privateKeyDer, format: 'der', type: 'pkcs8' });
    key = {
      publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
  const vector = await buildTestVector(key);
  await writeFile(file, `${JSON.stringify(vector, null, 2)}\n`);
  return vector;
}
