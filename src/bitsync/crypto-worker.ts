// One crypto worker thread (started by crypto-workers.ts): AES-256-GCM and SHA-256 over whole
// chunks, and the blob files it reads and writes itself. Every cryptographic
// operation is node:crypto's.
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type {
  EncryptToFileJob,
  FinishFileJob,
  HashJob,
  Job,
  JobResult,
  OpenChecks,
  OpenFailure,
  OpenFileJob,
  OpenJob,
  PassGuard,
  Reply,
  SealJob,
  SealToFileJob,
  ToWorker,
} from './crypto-jobs.js';
import { unwritten } from './file-parts.js';
import { MAX_BLOB_BYTES, NONCE_BYTES, TAG_BYTES } from './format.js';

/** A job's answer and the buffers it transfers back. */
interface Done {
  result: JobResult;
  transfer: ArrayBuffer[];
}

// Ciphers run over 16 KiB pieces: each output is small enough for the allocator to reuse, where one
// 512 KiB output is fresh memory (zero-filled, page-faulted) every time, at about half the speed.
const PIECE = 16384;
const view = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
/** The whole ArrayBuffer under bytes the main thread transferred here (never a SharedArrayBuffer). */
const bufferOf = (bytes: Uint8Array) => bytes.buffer as ArrayBuffer;

// This worker allocates few JavaScript objects, so V8 seldom collects its heap of its own accord,
// and the cipher outputs it drops (512 KiB a chunk, in 16 KiB pieces) piled up towards V8's
// external-memory limit first: the server's peak RSS during a 1 GiB upload was 52–61 MiB with them,
// 34–41 with a minor collection (young objects only, a fraction of a millisecond) every 8 MiB.
// gc() is exposed by flag, once; where that is refused, V8's own schedule stands.
const collectYoung = ((): (() => void) => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (options: { type: 'minor' }) => void;
    return () => gc({ type: 'minor' });
  } catch {
    return () => undefined;
  }
})();
let dropped = 0;
function droppedBytes(count: number): void {
  dropped += count;
  if (dropped >= 8 * 1024 * 1024) {
    dropped = 0;
    collectYoung();
  }
}

// Blobs and segments read from files never leave this worker, so one buffer serves every read (a
// fresh one per read was measured: this worker seldom collects garbage, and the peak RSS rose by
// tens of MiB).
let readBuffer: Buffer | undefined;
const blobBuffer = () => (readBuffer ??= Buffer.allocUnsafeSlow(MAX_BLOB_BYTES));

function sealParts(job: SealJob): { parts: Buffer[]; hash: string | undefined } {
  const plaintext = view(job.plaintext);
  const nonce = view(job.nonce);
  const cipher = createCipheriv('aes-256-gcm', job.key, nonce);
  cipher.setAAD(job.aad);
  const hasher = job.hash ? createHash('sha256').update(nonce) : undefined;
  const parts = [nonce];
  for (let offset = 0; offset < plaintext.length; offset += PIECE) {
    const piece = cipher.update(plaintext.subarray(offset, offset + PIECE));
    hasher?.update(piece);
    parts.push(piece);
  }
  cipher.final();
  const tag = cipher.getAuthTag();
  hasher?.update(tag);
  parts.push(tag);
  droppedBytes(plaintext.length);
  return { parts, hash: hasher?.digest('hex') };
}

// Sealed bytes handed back to the main thread: the ciphertext joined once (it crosses threads whole).
function seal(job: SealJob): Done {
  const { parts, hash } = sealParts(job);
  const pieces = parts.slice(1, -1);
  // Its own ArrayBuffer, exactly as long (Buffer.concat may answer a view into Node's shared pool).
  const ciphertext = new Uint8Array(pieces.reduce((total, piece) => total + piece.length, 0));
  let filled = 0;
  for (const piece of pieces) {
    ciphertext.set(piece, filled);
    filled += piece.length;
  }
  const tag = new Uint8Array(parts[parts.length - 1]!);
  return { result: { ciphertext, tag, hash }, transfer: [bufferOf(ciphertext)] };
}

/** Writes every part at `position` (or the file's own position), looping over short writes. */
function writeAll(fd: number, parts: Buffer[], position: number | undefined): void {
  for (let remaining = unwritten(parts, 0); remaining.length > 0;) {
    let written: number;
    if (position === undefined) written = fs.writevSync(fd, remaining);
    else {
      written = fs.writevSync(fd, remaining, position);
      position += written;
    }
    remaining = unwritten(remaining, written);
  }
}

/** Up to `length` bytes at `position`, read into the start of `buffer`: the bytes there were. */
function readInto(fd: number, buffer: Buffer, length: number, position: number): Buffer {
  let filled = 0;
  while (filled < length) {
    const count = fs.readSync(fd, buffer, filled, length - filled, position + filled);
    if (count === 0) break;
    filled += count;
  }
  return buffer.subarray(0, filled);
}

// The fsync waits on the disk, not the CPU, so it runs on the thread pool while this worker goes on.
const fsyncOf = (fd: number) =>
  new Promise<void>((resolve, reject) =>
    fs.fsync(fd, (error) => (error ? reject(error) : resolve())),
  );

/** A new file (never an existing one) holding `parts`, fsynced when asked; removed if any step fails. */
async function writeNewFile(file: string, parts: Buffer[], sync: boolean): Promise<void> {
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

// Sealed straight into a new blob file (created, written, fsynced, closed). The ciphertext never
// leaves this thread; the plaintext buffer goes back to a caller that asks, to be filled again.
async function sealToFile(job: SealToFileJob): Promise<Done> {
  const { parts, hash } = sealParts({ ...job, op: 'seal' });
  await writeNewFile(job.target.file, parts, true);
  if (!job.giveBack) return { result: { hash }, transfer: [] };
  return { result: { hash, plaintext: job.plaintext }, transfer: [bufferOf(job.plaintext)] };
}

// Checks run in the order every reader must follow: hash, length, tag. No plaintext leaves this
// thread unless the tag authenticates. The plaintext goes into `target` when given (a buffer at
// least as long), else into update's own output, which owns its memory exactly.
function openSealed(
  job: OpenChecks & { key: Uint8Array; aad: Uint8Array },
  sealed: Buffer,
  target?: Buffer,
): Buffer | OpenFailure {
  if (job.expectedHash !== undefined) {
    if (createHash('sha256').update(sealed).digest('hex') !== job.expectedHash) {
      return 'hash_mismatch';
    }
  }
  if (job.expectedLength !== undefined && sealed.length !== job.expectedLength) {
    return 'wrong_length';
  }
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return 'authentication_failed';
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', job.key, nonce);
  decipher.setAAD(job.aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const ciphertext = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  let plaintext: Buffer;
  if (target !== undefined) {
    // Piece by piece: each piece's plaintext lands before the first byte of its own ciphertext,
    // so decrypting into the blob's own memory overwrites only bytes already read.
    plaintext = target.subarray(0, ciphertext.length);
    let filled = 0;
    for (let offset = 0; offset < ciphertext.length; offset += PIECE) {
      filled += decipher
        .update(ciphertext.subarray(offset, offset + PIECE))
        .copy(plaintext, filled);
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

function open(job: OpenJob): Done {
  const opened = openSealed(job, view(job.from.bytes));
  if (typeof opened === 'string') return { result: { failure: opened }, transfer: [] };
  const plaintext = new Uint8Array(opened.buffer, opened.byteOffset, opened.length);
  return { result: { plaintext }, transfer: opened.length > 0 ? [bufferOf(plaintext)] : [] };
}

// Chunk-sized shared memory the main thread registered, by number (see takeSlot): a blob file is
// read into one, checked and opened there in place, and only its length comes back.
const slots: Buffer[] = [];

function openFile(job: OpenFileJob): Done {
  const slot = slots[job.slot];
  if (slot === undefined) throw new RangeError(`no shared slot ${job.slot} was registered`);
  let fd: number;
  try {
    fd = fs.openSync(job.file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { result: { failure: 'missing' }, transfer: [] };
    }
    throw error;
  }
  // The slot is one byte longer than the largest blob: enough to show a file is not one.
  let sealed: Buffer;
  try {
    sealed = readInto(fd, slot, slot.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const opened = openSealed(job, sealed, slot);
  if (typeof opened === 'string') return { result: { failure: opened }, transfer: [] };
  return { result: { length: opened.length }, transfer: [] };
}

// Sealing in two passes, for content whose hash (in every chunk's additional data) is not known
// until its last byte. GCM's ciphertext does not depend on the additional data: it is AES-CTR from
// the counter block GCM starts at, nonce ‖ 2 (NIST SP 800-38D, 7.1). So the first pass writes
// nonce ‖ ciphertext to the blob's own file as the plaintext arrives, and the second adds the tag
// once content_hash is known. In between the file is guarded by GMAC under a key that lives only in
// memory for that one creation.
function counterBlock(nonce: Uint8Array, first: number): Buffer {
  const block = Buffer.alloc(16);
  view(nonce).copy(block);
  block.writeUInt32BE(first, 12);
  return block;
}

/** GMAC of the parts, one after the other. */
function gmac(guard: PassGuard, parts: Buffer[]): Buffer {
  const mac = createCipheriv('aes-256-gcm', guard.macKey, guard.macNonce);
  for (const part of parts) mac.setAAD(part);
  mac.final();
  return mac.getAuthTag();
}

// The ciphertext replaces the plaintext in its own buffer, piece by piece (each piece's output is
// copied over the input it came from): no fresh memory is held per chunk, and the buffer goes back
// to the caller all the same, to be filled with a later chunk.
async function encryptToFile(job: EncryptToFileJob): Promise<Done> {
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
    transfer: [bufferOf(job.plaintext)],
  };
}

// The second pass: the file read back must be what the first wrote (its length and GMAC). Its
// plaintext is recovered with AES-CTR and sealed again by AES-GCM under the chunk's additional data,
// which makes the same ciphertext (not written again) and the tag, appended; then the blob is hashed
// and the file fsynced, ready to be named. Two AES passes more than patching the tag by hand in
// GF(2^128) would cost, and no cryptographic arithmetic of our own.
async function finishFile(job: FinishFileJob): Promise<Done> {
  const fd = fs.openSync(job.file, 'r+');
  try {
    // One byte more than the first pass wrote shows a file that grew.
    const written = readInto(fd, blobBuffer(), job.length + 1, 0);
    if (written.length !== job.length || !timingSafeEqual(gmac(job, [written]), view(job.mac))) {
      return { result: { failure: 'changed' }, transfer: [] };
    }
    const nonce = written.subarray(0, NONCE_BYTES);
    const ciphertext = written.subarray(NONCE_BYTES);
    const decipher = createDecipheriv('aes-256-ctr', job.key, counterBlock(nonce, 2));
    const cipher = createCipheriv('aes-256-gcm', job.key, nonce);
    cipher.setAAD(job.aad);
    for (let offset = 0; offset < ciphertext.length; offset += PIECE) {
      cipher.update(decipher.update(ciphertext.subarray(offset, offset + PIECE)));
    }
    cipher.final();
    droppedBytes(2 * ciphertext.length);
    const tag = cipher.getAuthTag();
    const hash = createHash('sha256').update(written).update(tag).digest('hex');
    writeAll(fd, [tag], written.length);
    await fsyncOf(fd);
    return { result: { hash }, transfer: [] };
  } finally {
    fs.closeSync(fd);
  }
}

function hash(job: HashJob): Done {
  return {
    result: { hash: createHash('sha256').update(view(job.bytes)).digest('hex') },
    transfer: [],
  };
}

function run(job: Job): Done | Promise<Done> {
  switch (job.op) {
    case 'seal':
      return seal(job);
    case 'sealToFile':
      return sealToFile(job);
    case 'open':
      return open(job);
    case 'openFile':
      return openFile(job);
    case 'encryptToFile':
      return encryptToFile(job);
    case 'finishFile':
      return finishFile(job);
    case 'hash':
      return hash(job);
  }
}

const port = parentPort;
if (port === null) throw new Error('crypto-worker.ts runs in a worker thread');

port.on('message', (message: ToWorker) => {
  if ('register' in message) {
    for (const { slot, memory } of message.register) slots[slot] = Buffer.from(memory);
    return;
  }
  const { id, job } = message;
  const answer = ({ result, transfer }: Done) => port.postMessage({ id, result }, transfer);
  const refuse = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reply: Reply = {
      id,
      error: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'string' ? { code } : {}),
    };
    port.postMessage(reply);
  };
  try {
    const done = run(job);
    if (done instanceof Promise) done.then(answer, refuse);
    else answer(done);
  } catch (error) {
    refuse(error);
  }
});
