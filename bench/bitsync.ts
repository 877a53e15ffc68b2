// The BitSync benchmark: create and read throughput of the library (from a one-pass stream, from a
// file, and from a stream whose hash is declared up front) and upload (with and without a declared
// hash) and download through the HTTP API, against the bare primitives (SHA-256 + AES-256-GCM
// in-process), durable disk writes and the floor (bitsync-floor.ts: the bare work of the format, which
// no create path does less than); memory during a 1 GiB create and a 1 GiB upload. Each figure
// carries its target (issue #4) and the load average when it was taken: the machine is shared.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { generateRsaKeyPair, privateKeyFromDer, type KeyPair } from '../src/crypto/keys.js';
import {
  CHUNK_SIZE,
  createContent,
  fileSource,
  FileChunkStore,
  openEnvelope,
  readContent,
  type ContentSource,
} from '../src/bitsync/index.js';
import { CHUNKS_IN_FLIGHT } from '../src/bitsync/pipeline.js';
import { createFloor } from './bitsync-floor.js';
import http from 'node:http';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import {
  fmt,
  loadAverage,
  markdownTable,
  ratio,
  residentBytes,
  say,
  startAxon,
} from './support.js';
import { registrationProof } from '../src/test-support/registration.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
// --quick: small sizes, to check the bench itself; its figures mean nothing.
const SIZES = process.argv.includes('--quick') ? [16 * MiB, 32 * MiB] : [256 * MiB, GiB];
/** Pieces as an HTTP body arrives: the library must cope with any size, this is a typical one. */
const PIECE_BYTES = 64 * 1024;
/** The source file, and the blobs of two creates (the library's and the floor's), plus some room. */
const DISK_NEEDED = (size: number) => 3 * size + 256 * MiB;
const DISK_REFERENCE_BYTES = 256 * MiB;
/** Issue #4's targets: against the raw primitives, and peak RSS growth. */
const LIBRARY_TARGET = 0.7;
const HTTP_TARGET = 0.5;
const RSS_TARGET = 64 * MiB;

/**
 * `total` bytes made on the fly in PIECE_BYTES pieces: a random seed with a counter stamped in, so
 * no two pieces are alike and the whole is never in memory. Both the library and the reference
 * consume this same generator, so its cost weighs on both sides alike. The same seed gives the
 * same bytes (a declared hash is computed beforehand, as an uploader would).
 */
function syntheticStream(total: number, seed: Buffer = randomBytes(MiB)): Readable {
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

/** The SHA-256 of the synthetic content, computed before the clock starts (as a client would). */
async function contentHashOf(total: number, seed: Buffer): Promise<string> {
  const hasher = createHash('sha256');
  for await (const piece of syntheticStream(total, seed)) hasher.update(piece as Buffer);
  return hasher.digest('hex');
}

/** A figure with the 1-minute load average at the moment it was taken. */
interface Figure {
  value: number;
  load: number;
}

const timed = async (total: number, work: () => Promise<unknown>): Promise<Figure> => {
  const started = performance.now();
  await work();
  return { value: mibPerSecond(total, performance.now() - started), load: os.loadavg()[0]! };
};

interface LibraryRun {
  /** From a one-pass stream: ciphertext written as it arrives, tags once it is hashed (two passes). */
  createStream: Figure;
  /** From a file: read once, straight into chunk buffers, then the same two passes. */
  createFile: Figure;
  /** From a one-pass stream with its hash declared: sealed as it arrives (one reading). */
  createDeclared: Figure;
  read: Figure;
  /** The bare one-pass create (bitsync-floor.ts), right after the library's: no create beats it. */
  createFloor: Figure;
  /** Peak RSS above the level just before the stream create, sampled every 10 ms. */
  createRssGrowth: number;
}

async function libraryRun(root: string, total: number, key: KeyPair): Promise<LibraryRun> {
  const seed = randomBytes(MiB);
  const create = async (name: string, source: ContentSource, declaredContentHash?: string) => {
    const store = await FileChunkStore.open(path.join(root, name));
    const { manifest } = await createContent({
      store,
      source,
      metadata: { filename: 'bench.bin', mime_type: 'application/octet-stream' },
      instanceKey: key.publicKey,
      ...(declaredContentHash === undefined ? {} : { declaredContentHash }),
    });
    if (manifest.size !== total) throw new Error(`created ${manifest.size} bytes, not ${total}`);
    return { store, manifest };
  };

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let created: Awaited<ReturnType<typeof create>> | undefined;
  const createStream = await timed(total, async () => {
    created = await create('stream', syntheticStream(total, seed));
  }).finally(() => clearInterval(sampler));
  const { store, manifest } = created!;

  const dek = openEnvelope(manifest, privateKeyFromDer(key.privateKeyDer));
  let readBytes = 0;
  const read = await timed(total, async () => {
    for await (const piece of readContent({ store, manifest, dek }))
      readBytes += (piece as Buffer).length;
  });
  if (readBytes !== total) throw new Error(`read ${readBytes} bytes, not ${total}`);
  await rm(path.join(root, 'stream'), { recursive: true, force: true });

  const file = path.join(root, 'source.bin');
  await pipeline(syntheticStream(total, seed), createWriteStream(file));
  const createFile = await timed(total, () => create('file', fileSource(file)));
  await rm(path.join(root, 'file'), { recursive: true, force: true });
  await rm(file, { force: true });

  const declared = await contentHashOf(total, seed);
  const createDeclared = await timed(total, () =>
    create('declared', syntheticStream(total, seed), declared),
  );
  const createFloorFigure = await timed(total, () =>
    createFloor(path.join(root, 'floor'), syntheticStream(total, seed), declared, CHUNKS_IN_FLIGHT),
  );
  return {
    createStream,
    createFile,
    createDeclared,
    read,
    createFloor: createFloorFigure,
    createRssGrowth: peak - baseline,
  };
}

interface HttpRun {
  /** Without a declared hash: the server stores the upload in two passes. */
  uploadSpooled: Figure;
  /** With X-Content-SHA256 (computed before the clock starts): stored in one pass. */
  uploadDeclared: Figure;
  download: Figure;
  /** Peak server RSS above its level before the two-pass upload, sampled every 10 ms. */
  uploadRssGrowth: number;
}

/** Streams `total` bytes as a multipart upload to a server child process, then downloads them. */
async function httpRun(total: number): Promise<HttpRun> {
  const server = await startAxon({ LOG_LEVEL: 'warn', AXON_UPLOAD_LIMIT: String(total + MiB) });
  try {
    const registered = await fetch(`${server.url}/api/auth/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'bench',
        password: 'bench password',
        ...(await registrationProof(server.url)),
      }),
    });
    const token = ((await registered.json()) as { data: { token: string } }).data.token;
    const boundary = 'axonbenchboundary';
    const upload = (bytes: number, seed: Buffer, declared?: string) =>
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
            ...(declared === undefined ? {} : { 'x-content-sha256': declared }),
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
        const source = syntheticStream(bytes, seed);
        source.on('end', () => request.end(tail));
        source.pipe(request, { end: false });
      });
    // A first small upload starts the server's crypto workers and JIT: one-time costs, not growth.
    await upload(8 * MiB, randomBytes(MiB));
    const seed = randomBytes(MiB);
    const baseline = residentBytes(server.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(server.pid));
    }, 10);
    let answer = '';
    const uploadSpooled = await timed(total, async () => {
      answer = await upload(total, seed);
    }).finally(() => clearInterval(sampler));
    const hash = (JSON.parse(answer) as { data: { content_hash: string } }).data.content_hash;

    let downloaded = 0;
    const download = await timed(total, async () => {
      downloaded = await downloadBytes(`${server.url}/api/content/stream/${hash}/`, token);
    });
    if (downloaded !== total) throw new Error(`downloaded ${downloaded} bytes, not ${total}`);

    // Other bytes than the first upload, so the declared upload is stored, not deduplicated.
    const otherSeed = randomBytes(MiB);
    const declared = await contentHashOf(total, otherSeed);
    const uploadDeclared = await timed(total, () => upload(total, otherSeed, declared));
    return { uploadSpooled, uploadDeclared, download, uploadRssGrowth: peak - baseline };
  } finally {
    await server.stop();
  }
}

/**
 * GET `url` and count the body's bytes, as lean as a client can be (like curl): one socket read
 * into one reused buffer, no HTTP client objects, no buffer per read. node:http's client cost this
 * 2-core machine a share of the CPU the server was being measured on.
 */
function downloadBytes(url: string, token: string): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise<number>((resolve, reject) => {
    let head = '';
    let body = -1;
    let expected = 0;
    const readInto = Buffer.allocUnsafe(256 * 1024);
    const socket = net.connect({
      host: hostname,
      port: Number(port),
      onread: {
        buffer: readInto,
        callback: (count) => {
          if (body >= 0) {
            body += count;
          } else {
            head += readInto.toString('latin1', 0, count);
            const end = head.indexOf('\r\n\r\n');
            if (end === -1) return true;
            const status = /^HTTP\/1\.1 (\d+)/.exec(head)?.[1];
            const length = /\r\ncontent-length: *(\d+)/i.exec(head.slice(0, end))?.[1];
            if (status !== '200' || length === undefined) {
              socket.destroy(new Error(`download: ${head.slice(0, end)}`));
              return false;
            }
            expected = Number(length);
            body = head.length - end - 4;
          }
          if (body >= expected) socket.end();
          return true;
        },
      },
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Math.max(body, 0)));
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
  });
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
    const versus = (
      label: string,
      figure: Figure,
      reference: Figure,
      referenceLabel: string,
      target: number,
    ) => {
      const achieved = figure.value / reference.value;
      rows.push([
        label,
        fmt(figure.value),
        `${fmt(reference.value)} ${referenceLabel}`,
        ratio(figure.value, reference.value),
        `≥ ${target}`,
        achieved >= target ? 'pass' : 'FAIL',
        `${fmt(figure.load, 2)} / ${fmt(reference.load, 2)}`,
      ]);
    };
    // A figure set beside another without a target of its own: where the floor lies.
    const info = (label: string, figure: Figure, reference: Figure, referenceLabel: string) =>
      rows.push([
        label,
        fmt(figure.value),
        `${fmt(reference.value)} ${referenceLabel}`,
        ratio(figure.value, reference.value),
        'info',
        '',
        `${fmt(figure.load, 2)} / ${fmt(reference.load, 2)}`,
      ]);
    const memory = (label: string, bytes: number) =>
      rows.push([
        label,
        fmt(bytes / MiB),
        `${fmt(RSS_TARGET / MiB)} target`,
        ratio(bytes, RSS_TARGET),
        `≤ ${fmt(RSS_TARGET / MiB)} MiB`,
        bytes <= RSS_TARGET ? 'pass' : 'FAIL',
        fmt(os.loadavg()[0]!, 2),
      ]);
    const rawOf = async (size: number): Promise<Figure> => ({
      value: await rawPrimitives(size),
      load: os.loadavg()[0]!,
    });

    for (const size of SIZES) {
      if ((await freeBytes(workspace)) < DISK_NEEDED(size)) {
        say(`skipping ${sizeLabel(size)}: needs ${fmt(DISK_NEEDED(size) / GiB)} GiB free`);
        continue;
      }
      const label = sizeLabel(size);
      say(`${label}: raw SHA-256 + AES-256-GCM`);
      const raw = await rawOf(size);
      say(`${label}: library create (stream, file, declared hash) and read`);
      const root = path.join(workspace, `store-${size}`);
      const run = await libraryRun(root, size, key);
      await rm(root, { recursive: true, force: true });
      const rawLabel = 'raw SHA-256+GCM';
      versus(
        `create ${label}, stream: 2 passes (MiB/s)`,
        run.createStream,
        raw,
        rawLabel,
        LIBRARY_TARGET,
      );
      versus(
        `create ${label}, file: 2 passes (MiB/s)`,
        run.createFile,
        raw,
        rawLabel,
        LIBRARY_TARGET,
      );
      versus(
        `create ${label}, declared hash: 1 pass (MiB/s)`,
        run.createDeclared,
        raw,
        rawLabel,
        LIBRARY_TARGET,
      );
      versus(`read ${label}, verified (MiB/s)`, run.read, raw, rawLabel, LIBRARY_TARGET);
      info(`floor ${label}: bare 1-pass create (MiB/s)`, run.createFloor, raw, rawLabel);
      info(
        `create ${label}, declared hash, vs floor (MiB/s)`,
        run.createDeclared,
        run.createFloor,
        'bare 1-pass create',
      );
      if (size === SIZES[SIZES.length - 1]) {
        say('durable disk writes (fsync + rename), as many in flight as the library');
        const folder = await mkdtemp(path.join(workspace, 'disk-'));
        const disk = await durableWrites(folder, DISK_REFERENCE_BYTES);
        await rm(folder, { recursive: true, force: true });
        rows.push([
          `create ${label}, stream, vs durable disk (MiB/s)`,
          fmt(run.createStream.value),
          `${fmt(disk)} fsync'd 512 KiB writes`,
          ratio(run.createStream.value, disk),
          'info',
          '',
          fmt(os.loadavg()[0]!, 2),
        ]);
        memory(`peak RSS growth, ${label} create from a stream (MiB)`, run.createRssGrowth);
      }
    }

    // HTTP: upload through the API (multipart into createContent) and download (readContent), in
    // a server child process on the same 2 cores as this client, against the same raw reference.
    for (const size of SIZES) {
      if ((await freeBytes(os.tmpdir())) < DISK_NEEDED(size)) continue;
      const label = sizeLabel(size);
      say(`${label}: HTTP upload (2 passes, declared hash) and download through a server process`);
      const raw = await rawOf(size);
      const run = await httpRun(size);
      const rawLabel = 'raw SHA-256+GCM';
      versus(
        `HTTP upload ${label}, 2 passes (MiB/s)`,
        run.uploadSpooled,
        raw,
        rawLabel,
        HTTP_TARGET,
      );
      versus(
        `HTTP upload ${label}, X-Content-SHA256 (MiB/s)`,
        run.uploadDeclared,
        raw,
        rawLabel,
        HTTP_TARGET,
      );
      versus(`HTTP download ${label} (MiB/s)`, run.download, raw, rawLabel, HTTP_TARGET);
      if (size === SIZES[SIZES.length - 1]) {
        memory(`server peak RSS growth, ${label} HTTP upload, 2 passes (MiB)`, run.uploadRssGrowth);
      }
    }

    console.log('');
    console.log(
      markdownTable(
        ['metric', 'Axon', 'reference', 'ratio', 'target', 'result', 'load 1 min (figure / ref)'],
        rows,
      ),
    );
    console.log('');
    console.log(
      `raw: SHA-256 of the whole + AES-256-GCM per 512 KiB chunk on one thread, no I/O. The ` +
        `library also hashes every blob and fsyncs it (${CHUNKS_IN_FLIGHT} in flight); without a ` +
        `declared hash it writes each chunk's ciphertext as it arrives and, once the whole is ` +
        `hashed, reads each back to check it (GMAC) and add its tag. floor: only the work the ` +
        `format forces on a one-pass create (SHA-256 of the whole; per chunk AES-256-GCM, ` +
        `SHA-256 of the blob, temp file, fsync, rename), with none of the library's checks: ` +
        `every create path does at least this work. HTTP: client and server share the machine's ` +
        `${os.cpus().length} cores.`,
    );
    say(`load at the end ${loadAverage()}`);
  } finally {
    await cleanUp();
  }
}

await main();
