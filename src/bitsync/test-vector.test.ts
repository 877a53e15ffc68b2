// The published test vector, both ways: this writer produces exactly its blobs and manifest from its
// inputs, and blobs made from the vector's rules by plain node:crypto are read back by this reader.
import { createCipheriv, createHash, createPrivateKey } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../crypto/keys.js';
import type { ChunkStore } from './chunk-store.js';
import { createContent } from './create.js';
import { openEnvelope } from './envelope.js';
import { FileChunkStore } from './file-chunk-store.js';
import { CHUNK_SIZE } from './format.js';
import { parseManifest } from './manifest.js';
import { readContent } from './read.js';
import {
  VECTOR_CREATED_AT,
  VECTOR_METADATA,
  VECTOR_RULES,
  VECTOR_SIZE,
  vectorDek,
  vectorNonce,
  vectorPlaintext,
  type TestVector,
} from './test-vector.js';

const VECTOR_FILE = fileURLToPath(new URL('../../docs/bitsync-test-vector.json', import.meta.url));
const vector = JSON.parse(await readFile(VECTOR_FILE, 'utf8')) as TestVector;
const privateKey = createPrivateKey(vector.rsa_key.private_key_pkcs8_pem);

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});
async function tempStore(): Promise<FileChunkStore> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axon-bitsync-vector-test-'));
  roots.push(root);
  return FileChunkStore.open(root);
}

/** The same store without its local files, as a remote store is used: only through ChunkStore. */
function withoutLocalFiles(store: FileChunkStore): ChunkStore {
  return {
    has: (hash) => store.has(hash),
    get: (hash) => store.get(hash),
    put: (hash, blob) => store.put(hash, blob),
    add: (chunk) => store.add(chunk),
    flush: () => store.flush(),
    delete: (hash) => store.delete(hash),
    list: () => store.list(),
  };
}

async function plaintextOfRule(): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of vectorPlaintext().open()) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('the published test vector', () => {
  it('states the inputs its rules give', async () => {
    const plaintext = await plaintextOfRule();
    expect(vector.rules).toEqual(VECTOR_RULES);
    expect(vector.plaintext.size).toBe(VECTOR_SIZE);
    expect(VECTOR_SIZE).toBeGreaterThan(2 * CHUNK_SIZE);
    expect(plaintext[0]).toBe(0);
    expect(plaintext[251]).toBe(0);
    expect(plaintext[300]).toBe(49);
    expect(sha256(plaintext)).toBe(vector.content_hash);
    expect(vector.dek_hex).toBe(vectorDek().toString('hex'));
    expect(vector.chunks.map((c) => c.nonce_hex)).toEqual(
      vector.chunks.map((c) => vectorNonce(c.index).toString('hex')),
    );
    expect(fingerprintOf(vector.rsa_key.public_key_pem)).toBe(vector.rsa_key.fingerprint);
  });

  it('holds a valid manifest whose envelope opens to the DEK', () => {
    const manifest = parseManifest(JSON.stringify(vector.manifest));
    expect(Object.keys(manifest.encrypted_aes_keys)).toEqual([vector.rsa_key.fingerprint]);
    expect(openEnvelope(manifest, privateKey).toString('hex')).toBe(vector.dek_hex);
  });

  it.each([
    ['a store of files', false],
    ['a store without local files', true],
  ])('is what this writer produces from the same inputs, into %s', async (_what, remote) => {
    const store = await tempStore();
    const { manifest } = await createContent({
      store: remote ? withoutLocalFiles(store) : store,
      scratchDirectory: store.scratchDirectory,
      source: vectorPlaintext(),
      metadata: VECTOR_METADATA,
      instanceKey: vector.rsa_key.public_key_pem,
      createdAt: new Date(VECTOR_CREATED_AT),
      fixedKeyMaterial: { dek: vectorDek(), nonce: vectorNonce },
    });
    // RSA-OAEP is randomized: the envelope differs, its key and what it opens to do not.
    const { encrypted_aes_keys: ours, ...rest } = manifest;
    const { encrypted_aes_keys: published, ...publishedRest } = vector.manifest;
    expect(rest).toEqual(publishedRest);
    expect(Object.keys(ours)).toEqual(Object.keys(published));
    expect(openEnvelope(manifest, privateKey).toString('hex')).toBe(vector.dek_hex);

    for (const chunk of vector.chunks) {
      const blob = (await store.get(chunk.chunk_hash))!;
      expect(blob).toBeDefined();
      expect(sha256(blob)).toBe(chunk.chunk_hash);
      expect(blob.length).toBe(chunk.blob_length);
      expect(blob.subarray(0, 12).toString('hex')).toBe(chunk.nonce_hex);
      expect(blob.subarray(0, 64).toString('base64')).toBe(chunk.blob_head_base64);
      expect(blob.subarray(-64).toString('base64')).toBe(chunk.blob_tail_base64);
      expect(blob.subarray(-16).toString('hex')).toBe(chunk.tag_hex);
      if (chunk.blob_base64 !== undefined) expect(blob.toString('base64')).toBe(chunk.blob_base64);
    }
    expect(await readdir(store.scratchDirectory)).toEqual([]);
  });

  it('is read back by this reader from blobs made independently with node:crypto', async () => {
    const plaintext = await plaintextOfRule();
    const dek = Buffer.from(vector.dek_hex, 'hex');
    const store = await tempStore();
    for (const chunk of vector.chunks) {
      // The format, spelled out from docs/bitsync.md: nonce ‖ AES-256-GCM(plaintext) ‖ tag.
      const nonce = Buffer.from(chunk.nonce_hex, 'hex');
      const cipher = createCipheriv('aes-256-gcm', dek, nonce);
      cipher.setAAD(Buffer.from(`axon-bitsync-v1:${vector.content_hash}:${chunk.index}`, 'ascii'));
      const body = plaintext.subarray(chunk.index * CHUNK_SIZE, (chunk.index + 1) * CHUNK_SIZE);
      const blob = Buffer.concat([nonce, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
      expect(sha256(blob)).toBe(chunk.chunk_hash);
      await store.put(chunk.chunk_hash, blob);
    }
    const manifest = parseManifest(JSON.stringify(vector.manifest));
    const pieces: Buffer[] = [];
    for await (const piece of readContent({
      store,
      manifest,
      dek: openEnvelope(manifest, privateKey),
    })) {
      pieces.push(piece as Buffer);
    }
    expect(Buffer.concat(pieces).equals(plaintext)).toBe(true);
  });
});
