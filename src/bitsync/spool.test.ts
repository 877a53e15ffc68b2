// The upload spool: the stream comes back whole, no plaintext lands on disk, and a spool altered
// between the two readings is refused.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceChangedError } from './errors.js';
import { CHUNK_SIZE } from './format.js';
import { spoolStream } from './spool.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'axon-spool-test-'));
  directories.push(directory);
  return directory;
}

/** Recognisable plaintext: a marker repeated, so its absence from the spool file means something. */
function marked(size: number): Buffer {
  return Buffer.alloc(size, 'SECRET-UPLOAD-');
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const all: Buffer[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

describe('spoolStream', () => {
  it('gives the stream back in chunk_size pieces, with its size and hash', async () => {
    const directory = await scratch();
    const plaintext = marked(2 * CHUNK_SIZE + 123);
    const spool = await spoolStream(
      Readable.from([plaintext.subarray(0, 1000), plaintext.subarray(1000)]),
      directory,
    );
    expect(spool.size).toBe(plaintext.length);
    expect(spool.contentHash).toBe(createHash('sha256').update(plaintext).digest('hex'));
    const chunks = await collect(spool.chunks());
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_SIZE, CHUNK_SIZE, 123]);
    expect(Buffer.concat(chunks).equals(plaintext)).toBe(true);
    // A second reading works too (a retry of the second pass).
    expect(Buffer.concat(await collect(spool.chunks())).equals(plaintext)).toBe(true);
    await spool.discard();
    expect(await readdir(directory)).toEqual([]);
  });

  it('writes no plaintext to disk', async () => {
    const directory = await scratch();
    const spool = await spoolStream(Readable.from([marked(CHUNK_SIZE + 10)]), directory);
    const [file] = await readdir(directory);
    const onDisk = await readFile(path.join(directory, file!));
    expect(onDisk.includes('SECRET-UPLOAD-')).toBe(false);
    await spool.discard();
  });

  it('refuses a spool altered or cut short between the readings', async () => {
    const directory = await scratch();
    const spool = await spoolStream(Readable.from([marked(CHUNK_SIZE + 10)]), directory);
    const file = path.join(directory, (await readdir(directory))[0]!);
    const original = await readFile(file);
    const altered = Buffer.from(original);
    altered[5000]! ^= 1;
    await writeFile(file, altered);
    await expect(collect(spool.chunks())).rejects.toBeInstanceOf(SourceChangedError);
    await writeFile(file, original.subarray(0, original.length - 5));
    await expect(collect(spool.chunks())).rejects.toBeInstanceOf(SourceChangedError);
    await spool.discard();
  });

  it('leaves no file when the stream fails', async () => {
    const directory = await scratch();
    async function* broken() {
      yield marked(CHUNK_SIZE * 2);
      throw new Error('upload aborted');
    }
    await expect(spoolStream(broken(), directory)).rejects.toThrow('upload aborted');
    expect(await readdir(directory)).toEqual([]);
  });
});
