// The BitSync benchmark: create and read throughput of the library against the bare primitives
// (SHA-256 + AES-256-GCM in-process) and against durable disk writes, and memory during a 1 GiB create.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rename, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { generateRsaKeyPair, privateKeyFromDer, type KeyPair } from '../src/crypto/keys.js';
import {
  CHUNK_SIZE,
  createContent,
  FileChunkStore,
  openEnvelope,
  readContent,
} from '../src/bitsync/index.js';
import { CHUNKS_IN_FLIGHT } from '../src/bitsync/pipeline.js';
import { fmt, markdownTable, ratio } from './support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZES = [256 * MiB, GiB];
/** Pieces as an HTTP body arrives: the library must cope with any size, this is a typical one. */
const PIECE_BYTES = 64 * 1024;
/** The spool and the blobs exist side by side during a create, plus some room. */
const DISK_NEEDED = (size: number) => 2 * size + 256 * MiB;
const DISK_REFERENCE_BYTES = 256 * MiB;
const RATIO_TARGET = 0.7;
const RSS_BUDGET = 48 * MiB;

const say = (message: string) => console.log(`· ${message}`);

/**
 * `total` bytes made on the fly in PIECE_BYTES pieces: a random seed with a counter stamped in, so
 * no two pieces are alike and the whole is never in memory. Both the library and the reference
 * consume this same generator, so its cost weighs on both sides alike.
 */
function syntheticStream(total: number): Readable {
  const seed = randomBytes(MiB);
  let offset = 0;
  return new Readable({
    highWaterMark: 4 * PIECE_BYTES,
    read() {
      if (offset >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(PIECE_BYTES, total - offset);
      const piece = Buffer.allocUnsafe(size);
      seed.copy(piece, 0, offset % MiB, (offset % MiB) + size);
      piece.writeUInt32BE(Math.floor(offset / PIECE_BYTES) >>> 0, 0);
      offset += size;
      this.push(piece);
    },
  });
}

const mibPerSecond = (bytes: number, ms: number) => bytes / MiB / (ms / 1000);

/** The bare work BitSync cannot avoid: SHA-256 of the whole and AES-256-GCM per chunk, no I/O. */
async function rawPrimitives(total: number): Promise<number> {
  const started = performance.now();
  const hasher = createHash('sha256');
  const key = randomBytes(32);
  let cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
  let inChunk = 0;
  for await (const piece of syntheticStream(total)) {
    const bytes = piece as Buffer;
    hasher.update(bytes);
    cipher.update(bytes);
    inChunk += bytes.length;
    if (inChunk >= CHUNK_SIZE) {
      cipher.final();
      cipher.getAuthTag();
      cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
      inChunk = 0;
    }
  }
  cipher.final();
  hasher.digest();
  return mibPerSecond(total, performance.now() - started);
}

/**
 * What the disk gives for durable blob writes alone: 512 KiB files written, fsynced and renamed into
 * place with their folder fsynced, as many in flight as the library keeps.
 */
async function durableWrites(directory: string, total: number): Promise<number> {
  const blob = randomBytes(CHUNK_SIZE + 28);
  const count = Math.ceil(total / CHUNK_SIZE);
  let next = 0;
  const started = performance.now();
  const writer = async () => {
    for (let index = next++; index < count; index = next++) {
      const temporary = path.join(directory, `${index}.partial`);
      const file = await open(temporary, 'wx');
      await file.writeFile(blob);
      await file.sync();
      await file.close();
      await rename(temporary, path.join(directory, `${index}.blob`));
      const folder = await open(directory, 'r');
      await folder.sync();
      await folder.close();
    }
  };
  await Promise.all(Array.from({ length: CHUNKS_IN_FLIGHT }, writer));
  return mibPerSecond(count * CHUNK_SIZE, performance.now() - started);
}

interface LibraryRun {
  createMiBs: number;
  readMiBs: number;
  /** Peak RSS above the level just before the create, sampled every 10 ms. */
  createRssGrowth: number;
}

async function libraryRun(root: string, total: number, key: KeyPair): Promise<LibraryRun> {
  const store = await FileChunkStore.open(root);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let started = performance.now();
  const { manifest } = await createContent({
    store,
    source: syntheticStream(total),
    metadata: { filename: 'bench.bin', mime_type: 'application/octet-stream' },
    instanceKey: key.publicKey,
  }).finally(() => clearInterval(sampler));
  const createMiBs = mibPerSecond(total, performance.now() - started);
  if (manifest.size !== total) throw new Error(`created ${manifest.size} bytes, not ${total}`);

  const dek = openEnvelope(manifest, privateKeyFromDer(key.privateKeyDer));
  started = performance.now();
  let read = 0;
  for await (const piece of readContent({ store, manifest, dek })) read += (piece as Buffer).length;
  const readMiBs = mibPerSecond(total, performance.now() - started);
  if (read !== total) throw new Error(`read ${read} bytes, not ${total}`);
  return { createMiBs, readMiBs, createRssGrowth: peak - baseline };
}

async function freeBytes(directory: string): Promise<number> {
  const info = await statfs(directory);
  return info.bavail * info.bsize;
}

const sizeLabel = (bytes: number) => (bytes >= GiB ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`);

async function main(): Promise<void> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'axon-bench-bitsync-'));
  const cleanUp = () => rm(workspace, { recursive: true, force: true });
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    const free = await freeBytes(workspace);
    say(
      `${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ` + `${fmt(free / GiB)} GiB free in ${os.tmpdir()}`,
    );
    say('generating the instance key pair');
    const key = await generateRsaKeyPair();

    const rows: string[][] = [];
    let largestGrowth: { size: number; bytes: number } | undefined;
    for (const size of SIZES) {
      if ((await freeBytes(workspace)) < DISK_NEEDED(size)) {
        say(`skipping ${sizeLabel(size)}: needs ${fmt(DISK_NEEDED(size) / GiB)} GiB free`);
        continue;
      }
      say(`${sizeLabel(size)}: raw SHA-256 + AES-256-GCM`);
      const raw = await rawPrimitives(size);
      say(`${sizeLabel(size)}: library create and read`);
      const root = path.join(workspace, `store-${size}`);
      const run = await libraryRun(root, size, key);
      await rm(root, { recursive: true, force: true });
      rows.push(
        [
          `create ${sizeLabel(size)} (MiB/s)`,
          fmt(run.createMiBs),
          `${fmt(raw)} raw SHA-256+GCM`,
          ratio(run.createMiBs, raw),
        ],
        [
          `read ${sizeLabel(size)}, verified (MiB/s)`,
          fmt(run.readMiBs),
          `${fmt(raw)} raw SHA-256+GCM`,
          ratio(run.readMiBs, raw),
        ],
      );
      largestGrowth = { size, bytes: run.createRssGrowth };
      if (size === SIZES[SIZES.length - 1]) {
        say('durable disk writes (fsync + rename), as many in flight as the library');
        const folder = await mkdtemp(path.join(workspace, 'disk-'));
        const disk = await durableWrites(folder, DISK_REFERENCE_BYTES);
        await rm(folder, { recursive: true, force: true });
        rows.push([
          `create ${sizeLabel(size)} vs durable disk (MiB/s)`,
          fmt(run.createMiBs),
          `${fmt(disk)} fsync'd 512 KiB writes`,
          ratio(run.createMiBs, disk),
        ]);
      }
    }
    if (largestGrowth !== undefined) {
      rows.push([
        `peak RSS growth, ${sizeLabel(largestGrowth.size)} create (MiB)`,
        fmt(largestGrowth.bytes / MiB),
        `${fmt(RSS_BUDGET / MiB)} budget`,
        ratio(largestGrowth.bytes, RSS_BUDGET),
      ]);
    }

    // ── HTTP rows ────────────────────────────────────────────────────────────────────────────
    // The attachments work adds upload and download through the API here (multipart upload into
    // createContent, ranged download from readContent), against the same raw reference.
    const httpRows: string[][] = [
      ['HTTP upload 1 GiB (MiB/s)', 'not yet measured', 'attachments work', '—'],
      ['HTTP download 1 GiB (MiB/s)', 'not yet measured', 'attachments work', '—'],
    ];
    // ─────────────────────────────────────────────────────────────────────────────────────────

    console.log('');
    console.log(markdownTable(['metric', 'Axon', 'reference', 'ratio'], [...rows, ...httpRows]));
    console.log('');
    console.log(
      `raw: SHA-256 of the whole + AES-256-GCM per 512 KiB chunk on one thread, no I/O; ` +
        `target ratio ≥ ${RATIO_TARGET}. The library also hashes every blob, seals the spool, ` +
        `and fsyncs each blob (${CHUNKS_IN_FLIGHT} in flight).`,
    );
    say(
      `load at the end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await cleanUp();
  }
}

await main();
