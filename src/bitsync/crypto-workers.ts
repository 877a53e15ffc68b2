// The crypto worker pool: AES-256-GCM and SHA-256 over whole chunks, off the main thread, so a large
// upload or download uses the spare cores and never holds the event loop for a chunk's worth of work.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type {
  BlobLocation,
  EncryptToFileJob,
  FinishFileJob,
  Job,
  JobResult,
  OpenChecks,
  OpenFailure,
  OpenFileJob,
  OpenJob,
  PassGuard,
  Reply,
  SealTarget,
  SealToFileJob,
  ToWorker,
} from './crypto-jobs.js';
import { MAX_BLOB_BYTES } from './format.js';

export type {
  BlobLocation,
  OpenChecks,
  OpenFailure,
  PassGuard,
  SealTarget,
} from './crypto-jobs.js';

// The worker's own module, crypto-worker.ts, compiled beside this one in the package. Under tsx and
// vitest this module is TypeScript and so is the worker's, which a thread cannot load by itself on
// Node 20 (a worker does not inherit tsx's loader hooks): there the thread loads it through tsx's API.
const WORKER_MODULE = import.meta.url.endsWith('.ts') ? './crypto-worker.ts' : './crypto-worker.js';

function startThread(): Worker {
  const module = new URL(WORKER_MODULE, import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(module);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const load = `import(${tsx}).then((tsx) => tsx.tsImport(${JSON.stringify(module.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(load, { eval: true });
}

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
export type Opened = { plaintext: Buffer } | { failure: OpenFailure };
export type OpenedFile = { plaintext: Buffer } | { failure: OpenFailure | 'missing' };

interface PendingJob {
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

class CryptoWorker {
  private readonly worker: Worker;
  readonly pending = new Map<number, PendingJob>();

  constructor(private readonly onExit: (worker: CryptoWorker) => void) {
    this.worker = startThread();
    // An idle pool must not keep the process alive; a busy one must (see run).
    this.worker.unref();
    this.register(slotMemory.map((memory, slot) => ({ slot, memory })));
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`crypto worker exited with code ${code}`)),
    );
  }

  run(id: number, job: Job, transfer: ArrayBuffer[]): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const message: ToWorker = { id, job };
      this.worker.postMessage(message, transfer);
    });
  }

  /** Shares slots with this worker; messages keep their order, so before any job that uses them. */
  register(slots: { slot: number; memory: SharedArrayBuffer }[]): void {
    const message: ToWorker = { register: slots };
    if (slots.length > 0) this.worker.postMessage(message);
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

function dispatch(job: Job, handedOver: Uint8Array): Promise<JobResult> {
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
 * Checks the blob (its bytes are handed over) as `checks` says and opens nonce ‖ ciphertext ‖ tag.
 */
export async function openInWorker(
  key: Uint8Array,
  aad: Uint8Array,
  from: BlobLocation,
  checks: OpenChecks = {},
): Promise<Opened> {
  const handedOver = transferable(from.bytes);
  const job: OpenJob = {
    op: 'open',
    key: exact(key),
    aad: exact(aad),
    from: { bytes: handedOver },
    ...checks,
  };
  const result = await dispatch(job, handedOver);
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
      ...checks,
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
