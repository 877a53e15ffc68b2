// The crypto worker pool: AES-256-GCM and SHA-256 over whole chunks, off the main thread, so a large
// upload or download uses the spare cores and never holds the event loop for a chunk's worth of work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MAX_BLOB_BYTES } from './format.js';

// Plain JavaScript, evaluated in each worker: an `eval` worker loads the same way from the compiled
// package, from TypeScript under tsx, and under vitest, with no file to resolve. Buffers travel as
// transferred ArrayBuffers (no copy) both ways.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createCipheriv, createDecipheriv, createHash, timingSafeEqual } = require('node:crypto');
const NONCE = 12;
const TAG = 16;
const MAX_BLOB = 524288 + NONCE + TAG;
// Ciphers run over 16 KiB pieces: each output is small enough for the allocator to reuse, where one
// 512 KiB output is fresh memory (zero-filled, page-faulted) every time, at about half the speed.
const PIECE = 16384;
const view = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
// This worker allocates few JavaScript objects, so V8 seldom collects its heap of its own accord,
// and the cipher outputs it drops (512 KiB a chunk, in 16 KiB pieces) piled up towards V8's
// external-memory limit first: the server's peak RSS during a 1 GiB upload was 52–61 MiB with them,
// 34–41 with a minor collection (young objects only, a fraction of a millisecond) every 8 MiB.
// gc() is exposed by flag, once; where that is refused, V8's own schedule stands.
let collectYoung;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  collectYoung = () => gc({ type: 'minor' });
} catch {
  collectYoung = () => undefined;
}
let dropped = 0;
function droppedBytes(count) {
  dropped += count;
  if (dropped >= 8 * 1024 * 1024) {
    dropped = 0;
    collectYoung();
  }
}

// Segments read from files never leave this worker, so one buffer serves every read (a fresh one per
// read was measured: this worker seldom collects garbage, and the peak RSS rose by tens of MiB).
let readBuffer;

function sealParts(job) {
  const plaintext = view(job.plaintext);
  const cipher = createCipheriv('aes-256-gcm', job.key, job.nonce);
  cipher.setAAD(job.aad);
  const hasher = job.hash ? createHash('sha256').update(job.nonce) : undefined;
  const parts = [job.nonce];
  for (let offset = 0; offset < plaintext.length; offset += PIECE) {
    const piece = cipher.update(plaintext.subarray(offset, offset + PIECE));
    if (hasher) hasher.update(piece);
    parts.push(piece);
  }
  cipher.final();
  const tag = cipher.getAuthTag();
  if (hasher) hasher.update(tag);
  parts.push(tag);
  droppedBytes(plaintext.length);
  return { parts, hash: hasher ? hasher.digest('hex') : undefined };
}

// Sealed bytes handed back to the main thread: the ciphertext joined once (it crosses threads whole).
function seal(job) {
  const { parts, hash } = sealParts(job);
  const pieces = parts.slice(1, -1);
  const ciphertext = new Uint8Array(pieces.reduce((total, piece) => total + piece.length, 0));
  let filled = 0;
  for (const piece of pieces) {
    ciphertext.set(piece, filled);
    filled += piece.length;
  }
  const tag = new Uint8Array(parts[parts.length - 1]);
  return { result: { ciphertext, tag, hash }, transfer: [ciphertext.buffer] };
}

function writeAll(fd, parts, position) {
  let remaining = parts.filter((part) => part.length > 0);
  while (remaining.length > 0) {
    let written = fs.writevSync(fd, remaining, position === undefined ? null : position);
    if (position !== undefined) position += written;
    const rest = [];
    for (const part of remaining) {
      if (written >= part.length) written -= part.length;
      else {
        rest.push(part.subarray(written));
        written = 0;
      }
    }
    remaining = rest;
  }
}

// Reads up to \`length\` bytes at \`position\` into the start of \`buffer\`; answers how many there were.
function readInto(fd, buffer, length, position) {
  let filled = 0;
  while (filled < length) {
    const count = fs.readSync(fd, buffer, filled, length - filled, position + filled);
    if (count === 0) break;
    filled += count;
  }
  return filled;
}

// The fsync waits on the disk, not the CPU, so it runs on the thread pool while this worker goes on.
const fsyncOf = (fd) =>
  new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));

// A new file (never an existing one) holding \`parts\`, fsynced when asked; removed again if any
// step fails.
async function writeNewFile(file, parts, sync) {
  const fd = fs.openSync(file, 'wx');
  try {
    writeAll(fd, parts, undefined);
    if (sync) await fsyncOf(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw error;
  }
  fs.closeSync(fd);
}

// Sealed straight into a file: a new blob file (created, written, fsynced, closed) or a segment at a
// position of an open spool. The ciphertext never leaves this thread; the plaintext buffer goes back
// to a caller that asks, to be filled again.
async function sealToFile(job) {
  const { parts, hash } = sealParts(job);
  if (job.target.file !== undefined) {
    await writeNewFile(job.target.file, parts, true);
  } else {
    writeAll(job.target.fd, parts, job.target.position);
  }
  if (!job.giveBack) return { result: { hash }, transfer: [] };
  return { result: { hash, plaintext: job.plaintext }, transfer: [job.plaintext.buffer] };
}

function readBlob(from) {
  if (from.bytes !== undefined) return view(from.bytes);
  if (from.length > MAX_BLOB) throw new RangeError('no blob or segment is that long');
  readBuffer ??= Buffer.allocUnsafeSlow(MAX_BLOB);
  return readBuffer.subarray(0, readInto(from.fd, readBuffer, from.length, from.position));
}

// Checks run in the order every reader must follow: hash, length, tag. No plaintext leaves
// this thread unless the tag authenticates. The plaintext goes into \`target\` when given (a buffer
// at least as long), else into update's own output, which owns its memory exactly.
function openSealed(job, sealed, target) {
  if (job.expectedHash !== undefined) {
    if (createHash('sha256').update(sealed).digest('hex') !== job.expectedHash) return 'hash_mismatch';
  }
  if (job.expectedLength !== undefined && sealed.length !== job.expectedLength) return 'wrong_length';
  if (sealed.length < NONCE + TAG) return 'authentication_failed';
  const nonce = sealed.subarray(0, NONCE);
  if (job.expectedNonce !== undefined && !nonce.equals(view(job.expectedNonce))) {
    return 'authentication_failed';
  }
  const decipher = createDecipheriv('aes-256-gcm', job.key, nonce);
  decipher.setAAD(job.aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const ciphertext = sealed.subarray(NONCE, sealed.length - TAG);
  let plaintext;
  if (target !== undefined) {
    // Piece by piece: each piece's plaintext lands before the first byte of its own ciphertext,
    // so decrypting into the blob's own memory overwrites only bytes already read.
    plaintext = target.subarray(0, ciphertext.length);
    let filled = 0;
    for (let offset = 0; offset < ciphertext.length; offset += PIECE) {
      filled += decipher.update(ciphertext.subarray(offset, offset + PIECE)).copy(plaintext, filled);
    }
    droppedBytes(ciphertext.length);
  } else {
    plaintext = decipher.update(ciphertext);
  }
  try {
    decipher.final();
  } catch {
    return 'authentication_failed';
  }
  return plaintext;
}

// Into the buffer handed over when it is long enough.
function open(job) {
  const sealed = readBlob(job.from);
  const into = job.into !== undefined && job.into.length >= sealed.length - NONCE - TAG ? view(job.into) : undefined;
  const opened = openSealed(job, sealed, into);
  if (typeof opened === 'string') return { result: { failure: opened }, transfer: [] };
  return { result: { plaintext: opened }, transfer: opened.length > 0 ? [opened.buffer] : [] };
}

// Chunk-sized shared memory the main thread registered, by number (see takeSlot): a blob file is
// read into one, checked and opened there in place, and only its length comes back.
const slots = [];

function openFile(job) {
  const slot = slots[job.slot];
  let fd;
  try {
    fd = fs.openSync(job.file, 'r');
  } catch (error) {
    if (error.code === 'ENOENT') return { result: { failure: 'missing' }, transfer: [] };
    throw error;
  }
  // The slot is one byte longer than the largest blob: enough to show a file is not one.
  let filled;
  try {
    filled = readInto(fd, slot, slot.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const opened = openSealed(job, slot.subarray(0, filled), slot);
  if (typeof opened === 'string') return { result: { failure: opened }, transfer: [] };
  return { result: { length: opened.length }, transfer: [] };
}

// Sealing in two passes, for content whose hash (in every chunk's additional data) is not known
// until its last byte. GCM's ciphertext does not depend on the additional data: it is AES-CTR from
// the counter block GCM starts at, nonce ‖ 2. So the first pass writes nonce ‖ ciphertext to the
// blob's own file as the plaintext arrives, and the second adds the tag once content_hash is known,
// without encrypting or writing the content again. In between the file is guarded by GMAC under a
// key that lives only in memory for that one creation.
function counterBlock(nonce, first) {
  const block = Buffer.alloc(16);
  view(nonce).copy(block);
  block.writeUInt32BE(first, 12);
  return block;
}

function gmac(job, parts) {
  const mac = createCipheriv('aes-256-gcm', job.macKey, job.macNonce);
  for (const part of parts) mac.setAAD(part);
  mac.final();
  return mac.getAuthTag();
}

// The ciphertext replaces the plaintext in its own buffer, piece by piece (each piece's output is
// copied over the input it came from): no fresh memory is held per chunk, and the buffer goes back
// to the caller all the same, to be filled with a later chunk.
async function encryptToFile(job) {
  const buffer = view(job.plaintext);
  const cipher = createCipheriv('aes-256-ctr', job.key, counterBlock(job.nonce, 2));
  for (let offset = 0; offset < buffer.length; offset += PIECE) {
    cipher.update(buffer.subarray(offset, offset + PIECE)).copy(buffer, offset);
  }
  droppedBytes(buffer.length);
  const parts = [view(job.nonce), buffer];
  const mac = gmac(job, parts);
  await writeNewFile(job.file, parts, false);
  return {
    result: { mac: new Uint8Array(mac), plaintext: job.plaintext },
    transfer: [job.plaintext.buffer],
  };
}

// GHASH is linear, so the tag of ciphertext already made is what GCM computes when it encrypts
// nothing with additional data ‖ pad ‖ ciphertext ‖ pad as its additional data, except for the
// last block hashed (the two lengths): swapping that block costs one multiplication by H = E(0¹²⁸)
// in GF(2¹²⁸), with GCM's bit order (NIST SP 800-38D, algorithm 1).
const GF_R = 0xe1n << 120n;
const toBig = (bytes) => BigInt('0x' + bytes.toString('hex'));
function gfMultiply(x, y) {
  let z = 0n;
  let v = y;
  for (let bit = 127n; bit >= 0n; bit--) {
    if ((x >> bit) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ GF_R : v >> 1n;
  }
  return z;
}
const lengths = (aadBytes, cipherBytes) => (BigInt(aadBytes * 8) << 64n) | BigInt(cipherBytes * 8);
const padding = (length) => Buffer.alloc((16 - (length % 16)) % 16);

function gcmTag(key, nonce, aad, ciphertext) {
  const gcm = createCipheriv('aes-256-gcm', key, nonce);
  const hashedAsAad = [aad, padding(aad.length), ciphertext, padding(ciphertext.length)];
  for (const part of hashedAsAad) gcm.setAAD(part);
  gcm.final();
  const hashKey = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(Buffer.alloc(16));
  const hashedLength = hashedAsAad.reduce((total, part) => total + part.length, 0);
  const swap = lengths(aad.length, ciphertext.length) ^ lengths(hashedLength, 0);
  const tag = toBig(gcm.getAuthTag()) ^ gfMultiply(swap, toBig(hashKey));
  return Buffer.from(tag.toString(16).padStart(32, '0'), 'hex');
}

// The second pass: the file read back must be what the first wrote (its length and GMAC), then its
// tag is appended, the blob hashed and the file fsynced, ready to be named.
async function finishFile(job) {
  const fd = fs.openSync(job.file, 'r+');
  try {
    readBuffer ??= Buffer.allocUnsafeSlow(MAX_BLOB);
    // One byte more than the first pass wrote shows a file that grew.
    const filled = readInto(fd, readBuffer, job.length + 1, 0);
    const written = readBuffer.subarray(0, filled);
    if (filled !== job.length || !timingSafeEqual(gmac(job, [written]), view(job.mac))) {
      return { result: { failure: 'changed' }, transfer: [] };
    }
    const tag = gcmTag(job.key, written.subarray(0, NONCE), job.aad, written.subarray(NONCE));
    const hash = createHash('sha256').update(written).update(tag).digest('hex');
    writeAll(fd, [tag], filled);
    await fsyncOf(fd);
    return { result: { hash }, transfer: [] };
  } finally {
    fs.closeSync(fd);
  }
}

function hash(job) {
  return { result: { hash: createHash('sha256').update(view(job.bytes)).digest('hex') }, transfer: [] };
}

const operations = { seal, sealToFile, open, openFile, encryptToFile, finishFile, hash };

parentPort.on('message', ({ id, job, register }) => {
  if (register !== undefined) {
    for (const { slot, memory } of register) slots[slot] = Buffer.from(memory);
    return;
  }
  const answer = ({ result, transfer }) => parentPort.postMessage({ id, result }, transfer);
  const refuse = (error) =>
    parentPort.postMessage({
      id,
      error: String(error && error.message ? error.message : error),
      code: error && typeof error.code === 'string' ? error.code : undefined,
    });
  try {
    const done = operations[job.op](job);
    if (done instanceof Promise) done.then(answer, refuse);
    else answer(done);
  } catch (error) {
    refuse(error);
  }
});
`;

interface SealJob {
  op: 'seal';
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  /** Also hash the sealed bytes (a blob's chunk hash), while they are hot in this core's cache. */
  hash: boolean;
}
/** Where sealed bytes go straight from the worker: a new file, or a position in an open file. */
export type SealTarget = { file: string } | { fd: number; position: number };
interface SealToFileJob extends Omit<SealJob, 'op'> {
  op: 'sealToFile';
  target: SealTarget;
  /** Transfer the plaintext's buffer back once sealed, to be filled again. */
  giveBack: boolean;
}
/** Where a blob to open comes from: bytes handed over, or `length` bytes at a position of an open file. */
export type BlobLocation = { bytes: Uint8Array } | { fd: number; position: number; length: number };
/** What the worker checks before decrypting, in the order every reader must follow. */
export interface OpenChecks {
  /** SHA-256 of the blob (hex), checked before anything else. */
  expectedHash?: string;
  /** The blob's length, checked after its hash. */
  expectedLength?: number;
  /** The nonce the blob must start with (a spool segment's own). */
  expectedNonce?: Uint8Array;
}
interface OpenJob extends OpenChecks {
  op: 'open';
  key: Uint8Array;
  aad: Uint8Array;
  from: BlobLocation;
  /** A buffer to decrypt into (when large enough), instead of a fresh one. */
  into?: Uint8Array;
}
interface OpenFileJob extends OpenChecks {
  op: 'openFile';
  key: Uint8Array;
  aad: Uint8Array;
  /** The blob file, read by the worker into the shared slot numbered `slot`. */
  file: string;
  slot: number;
}
/** What guards a blob file between the two passes of a two-pass seal (see encryptToFileInWorker). */
export interface PassGuard {
  /** A key for this one creation, never stored. */
  macKey: Uint8Array;
  /** Unique per file under that key. */
  macNonce: Uint8Array;
}
interface EncryptToFileJob extends PassGuard {
  op: 'encryptToFile';
  key: Uint8Array;
  nonce: Uint8Array;
  plaintext: Uint8Array;
  file: string;
}
interface FinishFileJob extends PassGuard {
  op: 'finishFile';
  key: Uint8Array;
  aad: Uint8Array;
  file: string;
  /** What the first pass wrote: its length (nonce ‖ ciphertext) and GMAC. */
  length: number;
  mac: Uint8Array;
}
interface HashJob {
  op: 'hash';
  bytes: Uint8Array;
}
type Job =
  SealJob | SealToFileJob | OpenJob | OpenFileJob | EncryptToFileJob | FinishFileJob | HashJob;

export interface Sealed {
  /** The blob in its parts: nonce, ciphertext, tag. */
  parts: Buffer[];
  hash: string | undefined;
}
export interface SealedToFile {
  hash: string | undefined;
  /** The plaintext's buffer, handed back when asked for: the caller may fill it again. */
  plaintext: Buffer | undefined;
}
export type OpenFailure = 'hash_mismatch' | 'wrong_length' | 'authentication_failed';
export type Opened = { plaintext: Buffer } | { failure: OpenFailure };
export type OpenedFile = { plaintext: Buffer } | { failure: OpenFailure | 'missing' };

interface Reply {
  id: number;
  result?: {
    ciphertext?: Uint8Array;
    tag?: Uint8Array;
    hash?: string;
    plaintext?: Uint8Array;
    /** The plaintext's length, left in a shared slot. */
    length?: number;
    /** GMAC of what the first pass of a two-pass seal wrote. */
    mac?: Uint8Array;
    failure?: OpenFailure | 'missing' | 'changed';
  };
  error?: string;
  code?: string;
}

interface PendingJob {
  resolve: (reply: NonNullable<Reply['result']>) => void;
  reject: (error: Error) => void;
}

class CryptoWorker {
  private readonly worker: Worker;
  readonly pending = new Map<number, PendingJob>();

  constructor(private readonly onExit: (worker: CryptoWorker) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    // An idle pool must not keep the process alive; a busy one must (see run).
    this.worker.unref();
    this.register(slotMemory.map((memory, slot) => ({ slot, memory })));
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`crypto worker exited with code ${code}`)),
    );
  }

  run(id: number, job: Job, transfer: ArrayBuffer[]): Promise<NonNullable<Reply['result']>> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, job }, transfer);
    });
  }

  /** Shares slots with this worker; messages keep their order, so before any job that uses them. */
  register(slots: { slot: number; memory: SharedArrayBuffer }[]): void {
    if (slots.length > 0) this.worker.postMessage({ register: slots });
  }

  private settle(reply: Reply): void {
    const job = this.pending.get(reply.id);
    if (job === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error !== undefined || reply.result === undefined) {
      // The errno code (ENOSPC, EEXIST…) survives the trip, so callers can tell file errors apart.
      job.reject(
        Object.assign(new Error(reply.error ?? 'crypto worker gave no result'), {
          code: reply.code,
        }),
      );
    } else {
      job.resolve(reply.result);
    }
  }

  private fail(error: Error): void {
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
    this.onExit(this);
  }
}

// One core is left to the event loop and the main thread's running hash of the whole content. One
// worker per core was measured on 2 cores: no faster (the client, the HTTP parser and the main
// thread share them), and more memory held by a second worker's heap and allocator arena.
const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));
const workers: CryptoWorker[] = [];
let nextId = 0;

function retire(gone: CryptoWorker): void {
  const index = workers.indexOf(gone);
  if (index !== -1) workers.splice(index, 1);
}

function leastBusyWorker(): CryptoWorker {
  if (workers.length < POOL_SIZE) {
    const worker = new CryptoWorker(retire);
    workers.push(worker);
    return worker;
  }
  return workers.reduce((best, worker) =>
    worker.pending.size < best.pending.size ? worker : best,
  );
}

// Shared slots: chunk-sized memory every worker knows by number, so a blob read and opened by a
// worker crosses no thread boundary, and the only fresh buffer per chunk is the reader's copy (the
// main thread reading the blob and the worker's decrypted output made two, moved between heaps).
// One byte longer than the largest blob: enough to show a file is not one. Taken for one job at a time and
// never freed; past SHARED_SLOTS (readers beyond that many chunks in flight) callers fall back to
// reading on the main thread.
const SLOT_BYTES = MAX_BLOB_BYTES + 1;
/** How many chunks can be opened in shared memory at once, across all readers. */
export const SHARED_SLOTS = 16;
const slotMemory: SharedArrayBuffer[] = [];
const freeSlots: number[] = [];

function takeSlot(): number | undefined {
  const free = freeSlots.pop();
  if (free !== undefined || slotMemory.length >= SHARED_SLOTS) return free;
  const slot = slotMemory.length;
  const memory = new SharedArrayBuffer(SLOT_BYTES);
  slotMemory.push(memory);
  for (const worker of workers) worker.register([{ slot, memory }]);
  return slot;
}

/**
 * Bytes ready to be transferred: a Uint8Array spanning its whole ArrayBuffer. Anything else (a view
 * into a larger buffer) is copied first, so transferring never takes memory from someone else.
 */
function transferable(bytes: Uint8Array): Uint8Array {
  if (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  ) {
    return bytes;
  }
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength));
  copy.set(bytes);
  return copy;
}

function dispatch(job: Job, handedOver: Uint8Array): Promise<NonNullable<Reply['result']>> {
  return leastBusyWorker().run(nextId++, job, [handedOver.buffer as ArrayBuffer]);
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
/** A small input copied to its own exact buffer: a view into Node's shared pool would clone the pool. */
const exact = (bytes: Uint8Array) => new Uint8Array(bytes);
/** The checks as a job carries them: the nonce, if any, in its own buffer. */
const ownChecks = (checks: OpenChecks): OpenChecks => ({
  ...checks,
  ...(checks.expectedNonce === undefined ? {} : { expectedNonce: exact(checks.expectedNonce) }),
});

/**
 * AES-256-GCM: nonce ‖ ciphertext ‖ tag (in parts), and optionally its SHA-256. `plaintext` is
 * handed over to the worker: the caller must not use it afterwards.
 */
export async function sealInWorker(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  hash: boolean,
): Promise<Sealed> {
  const input = transferable(plaintext);
  const ownNonce = exact(nonce);
  const result = await dispatch(
    { op: 'seal', key: exact(key), nonce: ownNonce, aad: exact(aad), plaintext: input, hash },
    input,
  );
  if (result.ciphertext === undefined || result.tag === undefined) {
    throw new Error('crypto worker gave no sealed bytes');
  }
  return {
    parts: [asBuffer(ownNonce), asBuffer(result.ciphertext), asBuffer(result.tag)],
    hash: result.hash,
  };
}

/**
 * AES-256-GCM written by the worker itself to `target` (a new file is fsynced and closed before
 * this resolves; a failed one is removed), and optionally its SHA-256. `plaintext` is handed over;
 * with `giveBack` it comes back once sealed.
 */
export async function sealToFileInWorker(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  hash: boolean,
  target: SealTarget,
  giveBack: boolean,
): Promise<SealedToFile> {
  const input = transferable(plaintext);
  const job: SealToFileJob = {
    op: 'sealToFile',
    key: exact(key),
    nonce: exact(nonce),
    aad: exact(aad),
    plaintext: input,
    hash,
    target,
    giveBack,
  };
  const result = await dispatch(job, input);
  const back = result.plaintext === undefined ? undefined : asBuffer(result.plaintext);
  return { hash: result.hash, plaintext: back };
}

/**
 * Fetches the blob (bytes given are handed over), checks it as `checks` says and opens
 * nonce ‖ ciphertext ‖ tag, into `into` (handed over) when it is large enough.
 */
export async function openInWorker(
  key: Uint8Array,
  aad: Uint8Array,
  from: BlobLocation,
  checks: OpenChecks = {},
  into?: Uint8Array,
): Promise<Opened> {
  const handedOver = 'bytes' in from ? transferable(from.bytes) : undefined;
  const target = into === undefined ? undefined : transferable(into);
  const job: OpenJob = {
    op: 'open',
    key: exact(key),
    aad: exact(aad),
    from: handedOver === undefined ? from : { bytes: handedOver },
    ...ownChecks(checks),
    ...(target === undefined ? {} : { into: target }),
  };
  const transfer = [handedOver, target].flatMap((bytes) =>
    bytes === undefined ? [] : [bytes.buffer as ArrayBuffer],
  );
  const result = await leastBusyWorker().run(nextId++, job, transfer);
  // Only a job that reads a file by name can find it missing or changed.
  if (result.failure === 'missing' || result.failure === 'changed') {
    throw new Error('crypto worker found no blob it was given');
  }
  if (result.failure !== undefined) return { failure: result.failure };
  if (result.plaintext === undefined) throw new Error('crypto worker gave no plaintext');
  return { plaintext: asBuffer(result.plaintext) };
}

/**
 * Reads the blob file in a worker, checks it as `checks` says and opens it there, into shared
 * memory; the plaintext comes back as a copy the caller owns. `missing` when there is no such file;
 * undefined when every shared slot is busy (the caller then reads the blob itself).
 */
export async function openFileInWorker(
  key: Uint8Array,
  aad: Uint8Array,
  file: string,
  checks: OpenChecks = {},
): Promise<OpenedFile | undefined> {
  const slot = takeSlot();
  if (slot === undefined) return undefined;
  try {
    const job: OpenFileJob = {
      op: 'openFile',
      key: exact(key),
      aad: exact(aad),
      file,
      slot,
      ...ownChecks(checks),
    };
    const result = await leastBusyWorker().run(nextId++, job, []);
    if (result.failure === 'changed') throw new Error('crypto worker answered for another job');
    if (result.failure !== undefined) return { failure: result.failure };
    if (result.length === undefined) throw new Error('crypto worker gave no plaintext');
    const plaintext = Buffer.allocUnsafe(result.length);
    plaintext.set(new Uint8Array(slotMemory[slot]!, 0, result.length));
    return { plaintext };
  } finally {
    freeSlots.push(slot);
  }
}

/**
 * The first pass of sealing a chunk whose additional data is not known yet: its AES-256-GCM
 * ciphertext (AES-CTR from nonce ‖ 2, which is what GCM makes whatever the additional data) is
 * written after the nonce to the new file `file`, unsynced; answers the GMAC that lets the second
 * pass check the file, and the plaintext's buffer (handed over), which now holds the ciphertext:
 * it is only good to be filled again.
 */
export async function encryptToFileInWorker(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  file: string,
  guard: PassGuard,
): Promise<{ mac: Uint8Array; plaintext: Buffer }> {
  const input = transferable(plaintext);
  const job: EncryptToFileJob = {
    op: 'encryptToFile',
    key: exact(key),
    nonce: exact(nonce),
    plaintext: input,
    file,
    macKey: exact(guard.macKey),
    macNonce: exact(guard.macNonce),
  };
  const result = await dispatch(job, input);
  if (result.mac === undefined || result.plaintext === undefined) {
    throw new Error('crypto worker gave no GMAC');
  }
  return { mac: result.mac, plaintext: asBuffer(result.plaintext) };
}

/**
 * The second pass: checks that `file` still holds the `length` bytes whose GMAC is `mac`, appends
 * the GCM tag for additional data `aad`, fsyncs the file and answers the blob's SHA-256; `changed`
 * when the file is not what the first pass wrote.
 */
export async function finishFileInWorker(
  key: Uint8Array,
  aad: Uint8Array,
  file: string,
  written: { length: number; mac: Uint8Array },
  guard: PassGuard,
): Promise<{ hash: string } | { failure: 'changed' }> {
  const job: FinishFileJob = {
    op: 'finishFile',
    key: exact(key),
    aad: exact(aad),
    file,
    length: written.length,
    mac: exact(written.mac),
    macKey: exact(guard.macKey),
    macNonce: exact(guard.macNonce),
  };
  const result = await leastBusyWorker().run(nextId++, job, []);
  if (result.failure === 'changed') return { failure: 'changed' };
  if (result.hash === undefined) throw new Error('crypto worker gave no hash');
  return { hash: result.hash };
}

/** Lowercase hex SHA-256. `bytes` is handed over: the caller must not use them afterwards. */
export async function hashInWorker(bytes: Uint8Array): Promise<string> {
  const input = transferable(bytes);
  const result = await dispatch({ op: 'hash', bytes: input }, input);
  if (result.hash === undefined) throw new Error('crypto worker gave no hash');
  return result.hash;
}
