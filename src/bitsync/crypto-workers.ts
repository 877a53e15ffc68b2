// The crypto worker pool: AES-256-GCM and SHA-256 over whole chunks, off the main thread, so a large
// upload or download uses the spare cores and never holds the event loop for a chunk's worth of work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// Plain JavaScript, evaluated in each worker: an `eval` worker loads the same way from the compiled
// package, from TypeScript under tsx, and under vitest, with no file to resolve. Buffers travel as
// transferred ArrayBuffers (no copy) both ways.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, createHash } = require('node:crypto');
const NONCE = 12;
const TAG = 16;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const view = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// The blob is returned in parts (nonce, ciphertext, tag): joining them would copy every ciphertext
// once more, and the hash and the file write take parts as they are.
function seal(job) {
  const cipher = createCipheriv('aes-256-gcm', job.key, job.nonce);
  cipher.setAAD(job.aad);
  const ciphertext = ownedExactly(cipher.update(view(job.plaintext)));
  cipher.final();
  const tag = new Uint8Array(cipher.getAuthTag());
  const hash = job.hash
    ? createHash('sha256').update(job.nonce).update(ciphertext).update(tag).digest('hex')
    : undefined;
  return { result: { ciphertext, tag, hash }, transfer: [ciphertext.buffer] };
}

// update's output normally owns its memory exactly; anything else is copied, since cloning a view
// would clone the whole buffer under it.
function ownedExactly(bytes) {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function open(job) {
  const sealed = view(job.sealed);
  if (job.expectedHash !== undefined && sha256(sealed) !== job.expectedHash) {
    return { result: { failure: 'hash_mismatch' }, transfer: [] };
  }
  const decipher = createDecipheriv('aes-256-gcm', job.key, sealed.subarray(0, NONCE));
  decipher.setAAD(job.aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  // update's output owns its memory exactly (GCM's final adds nothing), so it travels without a copy.
  const plaintext = decipher.update(sealed.subarray(NONCE, sealed.length - TAG));
  try {
    decipher.final();
  } catch {
    return { result: { failure: 'authentication_failed' }, transfer: [] };
  }
  const owned = plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength;
  return { result: { plaintext }, transfer: owned && plaintext.length > 0 ? [plaintext.buffer] : [] };
}

parentPort.on('message', ({ id, job }) => {
  try {
    const { result, transfer } =
      job.op === 'seal' ? seal(job) : job.op === 'open' ? open(job) : { result: { hash: sha256(view(job.bytes)) }, transfer: [] };
    parentPort.postMessage({ id, result }, transfer);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message ? error.message : error) });
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
interface OpenJob {
  op: 'open';
  key: Uint8Array;
  aad: Uint8Array;
  sealed: Uint8Array;
  /** Checked against SHA-256 of `sealed` before decrypting. */
  expectedHash: string | undefined;
}
interface HashJob {
  op: 'hash';
  bytes: Uint8Array;
}
type Job = SealJob | OpenJob | HashJob;

export interface Sealed {
  /** The blob in its parts: nonce, ciphertext, tag. */
  parts: Buffer[];
  hash: string | undefined;
}
export type Opened = { plaintext: Buffer } | { failure: 'hash_mismatch' | 'authentication_failed' };

interface Reply {
  id: number;
  result?: {
    ciphertext?: Uint8Array;
    tag?: Uint8Array;
    hash?: string;
    plaintext?: Uint8Array;
    failure?: string;
  };
  error?: string;
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

  private settle(reply: Reply): void {
    const job = this.pending.get(reply.id);
    if (job === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error !== undefined || reply.result === undefined) {
      job.reject(new Error(reply.error ?? 'crypto worker gave no result'));
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

/** Checks `expectedHash` (when given) and opens nonce ‖ ciphertext ‖ tag. `sealed` is handed over. */
export async function openInWorker(
  key: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
  expectedHash: string | undefined,
): Promise<Opened> {
  const input = transferable(sealed);
  const result = await dispatch(
    { op: 'open', key: exact(key), aad: exact(aad), sealed: input, expectedHash },
    input,
  );
  if (result.failure === 'hash_mismatch' || result.failure === 'authentication_failed') {
    return { failure: result.failure };
  }
  if (result.plaintext === undefined) throw new Error('crypto worker gave no plaintext');
  return { plaintext: asBuffer(result.plaintext) };
}

/** Lowercase hex SHA-256. `bytes` is handed over: the caller must not use them afterwards. */
export async function hashInWorker(bytes: Uint8Array): Promise<string> {
  const input = transferable(bytes);
  const result = await dispatch({ op: 'hash', bytes: input }, input);
  if (result.hash === undefined) throw new Error('crypto worker gave no hash');
  return result.hash;
}
