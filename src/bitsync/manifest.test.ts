// Manifest parsing: a valid manifest survives a round trip; every malformed field is refused by name.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManifestFormatError } from './errors.js';
import { CHUNK_SIZE } from './format.js';
import { parseManifest, serializeManifest, validateManifest, type Manifest } from './manifest.js';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');

function validManifest(): Manifest {
  return {
    version: 1,
    content_hash: hex('content'),
    size: 2 * CHUNK_SIZE + 5,
    chunk_size: CHUNK_SIZE,
    chunks: [hex('a'), hex('b'), hex('c')],
    encrypted_aes_keys: { [hex('key')]: randomBytes(384).toString('base64') },
    created_at: '2026-01-01T00:00:00.000Z',
    metadata: { filename: 'cat.jpg', mime_type: 'image/jpeg' },
  };
}

function issuePathsOf(value: unknown): string[] {
  try {
    validateManifest(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestFormatError);
    return (error as ManifestFormatError).issues.map((issue) => issue.path);
  }
  throw new Error('the manifest was accepted');
}

describe('parseManifest', () => {
  it('accepts a valid manifest and round-trips it, fields in the documented order', () => {
    const manifest = validManifest();
    const json = serializeManifest(manifest);
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      'version',
      'content_hash',
      'size',
      'chunk_size',
      'chunks',
      'encrypted_aes_keys',
      'created_at',
      'metadata',
    ]);
    expect(parseManifest(json)).toEqual(manifest);
    expect(parseManifest(Buffer.from(json))).toEqual(manifest);
  });

  it('accepts empty content (no chunks) and the smallest and largest RSA envelopes', () => {
    const manifest: Manifest = {
      ...validManifest(),
      size: 0,
      chunks: [],
      encrypted_aes_keys: {
        [hex('k1')]: randomBytes(256).toString('base64'),
        [hex('k2')]: randomBytes(1024).toString('base64'),
      },
    };
    expect(validateManifest(manifest)).toEqual(manifest);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseManifest('{"version": 1,')).toThrow(ManifestFormatError);
    expect(() => parseManifest('{"version": 1,')).toThrow(/not JSON/);
  });

  const base = validManifest();
  const fingerprint = Object.keys(base.encrypted_aes_keys)[0]!;
  const cases: Array<[string, unknown, string]> = [
    ['an unknown version', { ...base, version: 2 }, 'version'],
    [
      'an uppercase content hash',
      { ...base, content_hash: hex('x').toUpperCase() },
      'content_hash',
    ],
    ['a short content hash', { ...base, content_hash: 'abc' }, 'content_hash'],
    ['a negative size', { ...base, size: -1 }, 'size'],
    ['a fractional size', { ...base, size: 1.5 }, 'size'],
    ['a size beyond safe integers', { ...base, size: 2 ** 60 }, 'size'],
    ['another chunk size', { ...base, chunk_size: 1 << 20 }, 'chunk_size'],
    ['too few chunks for the size', { ...base, chunks: base.chunks.slice(0, 2) }, 'chunks'],
    ['too many chunks for the size', { ...base, chunks: [...base.chunks, hex('d')] }, 'chunks'],
    ['chunks for empty content', { ...base, size: 0 }, 'chunks'],
    ['a repeated chunk', { ...base, chunks: [hex('a'), hex('b'), hex('a')] }, 'chunks.2'],
    ['a malformed chunk hash', { ...base, chunks: [hex('a'), 'zz', hex('c')] }, 'chunks.1'],
    ['no envelopes', { ...base, encrypted_aes_keys: {} }, 'encrypted_aes_keys'],
    [
      'an envelope under a non-fingerprint',
      { ...base, encrypted_aes_keys: { alice: randomBytes(384).toString('base64') } },
      'encrypted_aes_keys.alice',
    ],
    [
      'an envelope that is not base64',
      { ...base, encrypted_aes_keys: { [fingerprint]: '!'.repeat(512) } },
      `encrypted_aes_keys.${fingerprint}`,
    ],
    [
      'an envelope too short for RSA',
      { ...base, encrypted_aes_keys: { [fingerprint]: randomBytes(32).toString('base64') } },
      `encrypted_aes_keys.${fingerprint}`,
    ],
    ['a timestamp that is not ISO 8601', { ...base, created_at: 'yesterday' }, 'created_at'],
    [
      'a timestamp with an offset',
      { ...base, created_at: '2026-01-01T00:00:00+02:00' },
      'created_at',
    ],
    ['an unknown field', { ...base, owner: 'mallory' }, ''],
    [
      'an unknown metadata field',
      { ...base, metadata: { ...base.metadata, path: '/etc' } },
      'metadata',
    ],
    [
      'a filename with a path',
      { ...base, metadata: { ...base.metadata, filename: '../secret' } },
      'metadata.filename',
    ],
    [
      'a filename with a control character',
      { ...base, metadata: { ...base.metadata, filename: 'a\r\nb' } },
      'metadata.filename',
    ],
    [
      'an empty filename',
      { ...base, metadata: { ...base.metadata, filename: '' } },
      'metadata.filename',
    ],
    [
      'a malformed media type',
      { ...base, metadata: { ...base.metadata, mime_type: 'text/html\r\nX-Evil: 1' } },
      'metadata.mime_type',
    ],
    ['a missing field', { ...base, metadata: undefined }, 'metadata'],
  ];
  it.each(cases)('refuses %s, naming the field', (_what, value, path) => {
    expect(issuePathsOf(value)).toContain(path);
  });

  it('accepts a media type with parameters', () => {
    const manifest = {
      ...base,
      metadata: { ...base.metadata, mime_type: 'text/plain; charset=utf-8' },
    };
    expect(validateManifest(manifest).metadata.mime_type).toBe('text/plain; charset=utf-8');
  });
});
