// The BitSync benchmark: create and read throughput of the library, and upload and download through
// the HTTP API, against the bare primitives (SHA-256 + AES-256-GCM in-process) and durable disk
// writes; memory during a 1 GiB create and a 1 GiB upload.
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
import http from 'node:http';
import {
  fmt,
  loadAverage,
  markdownTable,
  ratio,
  residentBytes,
  say,
  startAxon,
} from './support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
// --quick: small sizes, to check the bench itself; its figures mean nothing.
const SIZES = process.argv.includes('--quick') ? [16 * MiB, 32 * MiB] : [256 * MiB, GiB];
/** Pieces as an HTTP body arrives: the library must cope with any size, this is a typical one. */
const PIECE_BYTES = 64 * 1024;
/** The spool and the blobs exist side by side during a create, plus some room. */
const DISK_NEEDED = (size: number) => 2 * size + 256 * MiB;
const DISK_REFERENCE_BYTES = 256 * MiB;
const RATIO_TARGET = 0.7;
const RSS_BUDGET = 48 * MiB;

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

interface HttpRun {
  uploadMiBs: number;
  downloadMiBs: number;
  /** Peak server RSS above its level before the upload, sampled every 10 ms. */
  uploadRssGrowth: number;
}

/** Streams `total` bytes as a multipart upload to a server child process, then downloads them. */
async function httpRun(total: number): Promise<HttpRun> {
  const server = await startAxon({ LOG_LEVEL: 'warn', AXON_UPLOAD_LIMIT: String(total + MiB) });
  try {
    const registered = await fetch(`${server.url}/api/auth/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench', password: 'bench password' }),
    });
    const token = ((await registered.json()) as { data: { token: string } }).data.token;
    const boundary = 'axonbenchboundary';
    const upload = (bytes: number) =>
      new Promise<string>((resolve, reject) => {
        const head = Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\n` +
            `Content-Type: application/octet-stream\r\n\r\n`,
        );
        const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
        const request = http.request(`${server.url}/api/content/upload/`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(head.length + bytes + tail.length),
          },
        });
        request.on('error', reject);
        request.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () =>
            res.statusCode === 201
              ? resolve(body)
              : reject(new Error(`upload: ${res.statusCode} ${body}`)),
          );
        });
        request.write(head);
        const source = syntheticStream(bytes);
        source.on('end', () => request.end(tail));
        source.pipe(request, { end: false });
      });
    // A first small upload starts the server's crypto workers and JIT: one-time costs, not growth.
    await upload(8 * MiB);
    const baseline = residentBytes(server.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(server.pid));
    }, 10);
    let started = performance.now();
    const answer = await upload(total).finally(() => clearInterval(sampler));
    const uploadMiBs = mibPerSecond(total, performance.now() - started);
    const hash = (JSON.parse(answer) as { data: { content_hash: string } }).data.content_hash;

    started = performance.now();
    const downloaded = await new Promise<number>((resolve, reject) => {
      http
        .get(
          `${server.url}/api/content/stream/${hash}/`,
          { headers: { authorization: `Bearer ${token}` } },
          (res) => {
            let bytes = 0;
            res.on('data', (c: Buffer) => (bytes += c.length));
            res.on('end', () => resolve(bytes));
            res.on('error', reject);
          },
        )
        .on('error', reject);
    });
    if (downloaded !== total) throw new Error(`downloaded ${downloaded} bytes, not ${total}`);
    const downloadMiBs = mibPerSecond(total, performance.now() - started);
    return { uploadMiBs, downloadMiBs, uploadRssGrowth: peak - baseline };
  } finally {
    await server.stop();
  }
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
      `${os.cpus().length} CPUs, load ${loadAverage()}, ${fmt(free / GiB)} GiB free in ${os.tmpdir()}`,
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

    // HTTP: upload through the API (multipart into createContent) and download (readContent), in
    // a server child process, against the same raw reference.
    const httpRows: string[][] = [];
    for (const size of SIZES) {
      if ((await freeBytes(os.tmpdir())) < DISK_NEEDED(size)) continue;
      say(`${sizeLabel(size)}: HTTP upload and download through a server process`);
      const raw = await rawPrimitives(size);
      const run = await httpRun(size);
      httpRows.push(
        [
          `HTTP upload ${sizeLabel(size)} (MiB/s)`,
          fmt(run.uploadMiBs),
          `${fmt(raw)} raw SHA-256+GCM`,
          ratio(run.uploadMiBs, raw),
        ],
        [
          `HTTP download ${sizeLabel(size)} (MiB/s)`,
          fmt(run.downloadMiBs),
          `${fmt(raw)} raw SHA-256+GCM`,
          ratio(run.downloadMiBs, raw),
        ],
      );
      if (size === SIZES[SIZES.length - 1]) {
        httpRows.push([
          `server peak RSS growth, ${sizeLabel(size)} HTTP upload (MiB)`,
          fmt(run.uploadRssGrowth / MiB),
          `${fmt(64)} target`,
          ratio(run.uploadRssGrowth, 64 * MiB),
        ]);
      }
    }

    console.log('');
    console.log(markdownTable(['metric', 'Axon', 'reference', 'ratio'], [...rows, ...httpRows]));
    console.log('');
    console.log(
      `raw: SHA-256 of the whole + AES-256-GCM per 512 KiB chunk on one thread, no I/O; ` +
        `target ratio ≥ ${RATIO_TARGET}. The library also hashes every blob, seals the spool, ` +
        `and fsyncs each blob (${CHUNKS_IN_FLIGHT} in flight).`,
    );
    say(`load at the end ${loadAverage()}`);
  } finally {
    await cleanUp();
  }
}

await main();
