// FileChunkStore: blobs as files under <root>/blobs/ab/<hash>, written atomically (temp file in
// <root>/tmp, fsync, rename or link, fsync directory) so a crash never leaves a torn blob under a
// valid name.
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type {
  AddedBlob,
  BlobFiles,
  BlobSource,
  ChunkStore,
  PutOutcome,
  StoredBlob,
} from './chunk-store.js';
import type { SealedChunk, SealedChunkFile } from './chunk-cipher.js';
import { hashInWorker } from './crypto-workers.js';
import { partsLength, writeParts } from './file-parts.js';
import { BlobRejectedError, InvalidChunkHashError } from './errors.js';
import { isHexSha256, MAX_BLOB_BYTES, MIN_BLOB_BYTES } from './format.js';

const FAN_OUT = /^[0-9a-f]{2}$/;

export class FileChunkStore implements ChunkStore, BlobFiles {
  readonly scratchDirectory: string;
  readonly blobFiles: BlobFiles = this;
  private readonly blobsDirectory: string;
  /** Fan-out folders known to exist, so a put does not pay a mkdir each time. */
  private readonly knownFolders = new Set<string>();
  /** Folders that gained a blob name whose directory entry is not synced yet (see flush). */
  private readonly unsyncedFolders = new Set<string>();

  private constructor(readonly root: string) {
    this.blobsDirectory = path.join(root, 'blobs');
    this.scratchDirectory = path.join(root, 'tmp');
  }

  /** Opens (creating if needed) a store rooted at `root`. */
  static async open(root: string): Promise<FileChunkStore> {
    const store = new FileChunkStore(path.resolve(root));
    await mkdir(store.blobsDirectory, { recursive: true });
    await mkdir(store.scratchDirectory, { recursive: true });
    return store;
  }

  /** Where a blob lives; refuses anything but a chunk hash, so no name can escape the store. */
  pathOf(hash: string): string {
    if (!isHexSha256(hash)) throw new InvalidChunkHashError(hash);
    return path.join(this.blobsDirectory, hash.slice(0, 2), hash);
  }

  async has(hash: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(hash))).isFile();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async get(hash: string): Promise<Buffer | undefined> {
    let file;
    try {
      file = await open(this.pathOf(hash), 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      // One byte past the largest blob is enough to show a file is not one, whatever its real size.
      const length = Math.min((await file.stat()).size, MAX_BLOB_BYTES + 1);
      const bytes = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await file.read(bytes, filled, length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return bytes.subarray(0, filled);
    } finally {
      await file.close();
    }
  }

  async put(hash: string, blob: BlobSource): Promise<PutOutcome> {
    return this.store(hash, { kind: 'claimed', blob });
  }

  async add(chunk: SealedChunk): Promise<AddedBlob> {
    return {
      hash: chunk.hash,
      outcome: await this.store(chunk.hash, { kind: 'sealed', parts: chunk.parts }),
    };
  }

  scratchFile(): string {
    return path.join(this.scratchDirectory, `add-${randomBytes(12).toString('hex')}.partial`);
  }

  async adopt(chunk: SealedChunkFile): Promise<AddedBlob> {
    const { file, hash } = chunk;
    try {
      const target = this.pathOf(hash);
      const folder = path.dirname(target);
      // A link, not a rename, never replaces: a freshly sealed blob cannot already exist (its nonce
      // is fresh), so the usual answer costs no lookup, yet `existing` is still told apart from
      // `stored` (with fixed nonces it happens), and only blobs this call stored are ever deleted.
      const linked = await this.inFolder(folder, () => link(file, target)).then(
        () => true,
        (error: unknown) => {
          if (isErrno(error, 'EEXIST')) return false;
          throw error;
        },
      );
      if (linked) {
        this.unsyncedFolders.add(folder);
        return { hash, outcome: 'stored' };
      }
      return { hash, outcome: await this.store(hash, { kind: 'file', file }) };
    } finally {
      await rm(file, { force: true });
    }
  }

  async flush(): Promise<void> {
    const folders = [...this.unsyncedFolders];
    this.unsyncedFolders.clear();
    await Promise.all(folders.map(fsyncFolder));
  }

  /** A sealed chunk's folder sync is left to the next flush. */
  private async store(hash: string, blob: IncomingBlob): Promise<PutOutcome> {
    const target = this.pathOf(hash);
    const present = await this.get(hash);
    if (present !== undefined && (await hashInWorker(present)) === hash) {
      // Never rewritten; the fresh mtime restarts the garbage collector's grace for a blob that is
      // about to be referenced again.
      const now = new Date();
      await utimes(target, now, now);
      return 'existing';
    }

    let temporary: string;
    if (blob.kind === 'file') temporary = blob.file;
    else {
      temporary = path.join(
        this.scratchDirectory,
        `put-${hash.slice(0, 16)}-${randomBytes(8).toString('hex')}.partial`,
      );
      await writeBlob(temporary, hash, blob);
    }
    try {
      await this.moveIntoPlace(temporary, target, blob.kind !== 'claimed');
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return present === undefined ? 'stored' : 'repaired';
  }

  async delete(hash: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(hash));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<StoredBlob> {
    for (const prefix of await listFolder(this.blobsDirectory)) {
      if (!FAN_OUT.test(prefix)) continue;
      const folder = path.join(this.blobsDirectory, prefix);
      for (const name of await listFolder(folder)) {
        if (!isHexSha256(name) || !name.startsWith(prefix)) continue;
        const info = await stat(path.join(folder, name)).catch((error: unknown) => {
          if (isErrno(error, 'ENOENT')) return undefined; // deleted while listing
          throw error;
        });
        if (info?.isFile()) yield { hash: name, modifiedAt: info.mtime };
      }
    }
  }

  async sweepScratch(olderThan: Date): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await listFolder(this.scratchDirectory)) {
      const file = path.join(this.scratchDirectory, name);
      const info = await stat(file).catch(() => undefined);
      if (info === undefined || info.mtime >= olderThan) continue;
      await rm(file, { force: true, recursive: true });
      removed.push(name);
    }
    return removed;
  }

  private async moveIntoPlace(
    temporary: string,
    target: string,
    deferFolderSync: boolean,
  ): Promise<void> {
    const folder = path.dirname(target);
    await this.inFolder(folder, () => rename(temporary, target));
    // The blob's bytes were synced before the rename, so its name never shows torn content; the
    // name itself is durable after this folder sync, now or at the next flush.
    if (deferFolderSync) this.unsyncedFolders.add(folder);
    else await fsyncFolder(folder);
  }

  /** Runs `enter` (a rename or link into `folder`) once the folder exists. */
  private async inFolder(folder: string, enter: () => Promise<void>): Promise<void> {
    await this.ensureFolder(folder);
    try {
      await enter();
    } catch (error) {
      // The folder was removed behind our back (an operator's cleanup): make it again, once.
      if (!isErrno(error, 'ENOENT')) throw error;
      this.knownFolders.delete(folder);
      await this.ensureFolder(folder);
      await enter();
    }
  }

  private async ensureFolder(folder: string): Promise<void> {
    if (this.knownFolders.has(folder)) return;
    const created = await mkdir(folder, { recursive: true });
    // A new folder's own entry must be durable too, or the blob's rename could vanish with it.
    if (created !== undefined) await fsyncFolder(this.blobsDirectory);
    this.knownFolders.add(folder);
  }
}

/**
 * Bytes that claim a name (put: checked against it), or a chunk sealed here, in parts (add) or
 * already in a synced scratch file (adopt): its hash was computed from those very bytes, so it is
 * not computed again.
 */
type IncomingBlob =
  | { kind: 'claimed'; blob: BlobSource }
  | { kind: 'sealed'; parts: readonly Buffer[] }
  | { kind: 'file'; file: string };

/**
 * Writes the blob to `file`, checking it hashes to `hash` (unless it is a chunk sealed here, whose
 * hash was computed from these very bytes); fsyncs it, or removes it and throws.
 */
async function writeBlob(
  file: string,
  hash: string,
  incoming: Exclude<IncomingBlob, { kind: 'file' }>,
): Promise<void> {
  const handle = await open(file, 'wx');
  let complete = false;
  try {
    if (incoming.kind === 'sealed') {
      checkSize(partsLength(incoming.parts), hash);
      await writeParts(handle, incoming.parts);
    } else if (incoming.blob instanceof Uint8Array) {
      const blob = incoming.blob;
      checkSize(blob.length, hash);
      // The caller's bytes are hashed here, not handed to a worker: the caller may still use them.
      if (createHash('sha256').update(blob).digest('hex') !== hash) {
        throw new BlobRejectedError('hash_mismatch', hash);
      }
      await handle.writeFile(blob);
    } else {
      const hasher = createHash('sha256');
      let size = 0;
      for await (const piece of incoming.blob) {
        size += piece.length;
        // Checked as bytes arrive: a peer streaming an endless blob is cut off at the limit.
        if (size > MAX_BLOB_BYTES) throw new BlobRejectedError('wrong_size', hash);
        hasher.update(piece);
        // FileHandle.writeFile appends at the handle's position, looping over short writes.
        await handle.writeFile(piece);
      }
      checkSize(size, hash);
      if (hasher.digest('hex') !== hash) throw new BlobRejectedError('hash_mismatch', hash);
    }
    await handle.sync();
    complete = true;
  } finally {
    await handle.close();
    if (!complete) await rm(file, { force: true });
  }
}

function checkSize(size: number, hash: string): void {
  if (size < MIN_BLOB_BYTES || size > MAX_BLOB_BYTES)
    throw new BlobRejectedError('wrong_size', hash);
}

async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
