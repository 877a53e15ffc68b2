// Attachments on top of BitSync: uploads stream into the chunk store (dedup by content_hash), the
// manifest and the attachment row are written once every blob is stored, and reads check who may
// see the content: readers of a message's board, the two parties of a private message, an applet's
// owner, the uploader. Anyone else gets 404, so existence is never revealed.
import type { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import {
  collectGarbage,
  createContent,
  FileChunkStore,
  openEnvelope,
  parseManifest,
  readContent,
  rekeyManifest,
  serializeManifest,
  verifyContent,
  type ByteRange,
  type ChunkStore,
  type GarbageReport,
  type Manifest,
  type VerifyReport,
} from '../../../bitsync/index.js';
import type { UploadQuota } from '../../config.js';
import type { AxonDatabase } from '../../db/database.js';
import type { ContentRefKind, DatabaseSchema, RemoteFetchState } from '../../db/schema.js';
import { AppError, fieldError, notFound } from '../../http/errors.js';
import { assertCan, can } from '../accounts/permissions.js';
import { visibleTo } from '../boards/messages.js';
import { actorFor } from '../moderation/banned-pubkeys.js';
import type { User } from '../accounts/user.js';
import type { BoardService } from '../boards/service.js';
import type { Board } from '../boards/board.js';
import type { InstanceIdentity } from '../federation/identity.js';

export interface Attachment {
  id: string;
  contentHash: string;
  filename: string;
  mimeType: string;
  size: number;
  uploaderId: string | null;
  createdAt: number;
}

/** What a message or private message carries of an attachment (and what its signature covers). */
export interface AttachmentRef {
  content_hash: string;
  size: number;
  filename: string;
  mime_type: string;
}

/** What a reader sees of an attachment; `absent` when no peer has announced it here. */
export interface ContentState {
  state: Exclude<RemoteFetchState, 'evicted'> | 'absent';
  chunksDone: number;
  chunksTotal: number;
  lastError: string | null;
}

/** Uploads nothing refers to are kept this long (time to write the message), then collected. */
export const UNATTACHED_GRACE_MS = 24 * 60 * 60 * 1000;

/** The cache of content fetched from peers (federation/remote-cache.ts), as readers touch it. */
export interface RemoteReads {
  /** Someone opened the content: it is the most recently read. */
  noteRead(contentHash: string): Promise<void>;
  /** Someone asked for evicted content: fetch it again. */
  refetch(contentHash: string): Promise<void>;
}

export class ContentService {
  private store: Promise<ChunkStore> | undefined;
  /** Set once the federation side exists (context.ts). */
  remoteReads: RemoteReads | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly identity: InstanceIdentity,
    private readonly boards: BoardService,
    private readonly storeDir: string,
    private readonly quota: UploadQuota,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  chunkStore(): Promise<ChunkStore> {
    this.store ??= FileChunkStore.open(this.storeDir);
    return this.store;
  }

  /**
   * Stores an upload and records it as the user's. With the content hash the uploader declared, it
   * is sealed as it arrives and checked at the end (DeclaredHashMismatchError: nothing kept);
   * without, each chunk's ciphertext is written as it arrives and its tag added once the whole is
   * hashed.
   */
  /** Refuses an account that may not upload (a banned key included): the rule `upload` applies. */
  async assertMayUpload(uploader: User): Promise<void> {
    assertCan(await actorFor(this.db, uploader), 'upload');
  }

  async upload(
    uploader: User,
    source: AsyncIterable<Uint8Array>,
    meta: { filename: string; mimeType: string; declaredContentHash?: string | undefined },
  ): Promise<Attachment> {
    await this.assertMayUpload(uploader);
    const allowance = await this.quotaLeft(uploader);
    const store = await this.chunkStore();
    const { manifest } = await createContent({
      store,
      source: withinQuota(source, allowance, this.quota),
      ...(meta.declaredContentHash === undefined
        ? {}
        : { declaredContentHash: meta.declaredContentHash }),
      metadata: { filename: meta.filename, mime_type: meta.mimeType },
      instanceKey: this.identity.pubkey,
      findManifest: (hash) => this.manifest(hash),
    });
    const id = uuidv7();
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await recordManifest(trx, manifest, now);
      await recordChunks(trx, manifest);
      await trx
        .insertInto('attachments')
        .values({
          id,
          content_hash: manifest.content_hash,
          filename: meta.filename,
          mime_type: meta.mimeType,
          size: manifest.size,
          uploader_id: uploader.id,
          created_at: now,
        })
        .execute();
    });
    return {
      id,
      contentHash: manifest.content_hash,
      filename: meta.filename,
      mimeType: meta.mimeType,
      size: manifest.size,
      uploaderId: uploader.id,
      createdAt: now,
    };
  }

  /**
   * Stores bytes the instance keeps for itself (an applet's data for one user): a BitSync object
   * like any upload, with no attachment row — the caller then records a content ref that keeps it
   * (until then, garbage collection may take it: nothing names it).
   */
  async storeInternal(
    bytes: Uint8Array,
    metadata: { filename: string; mime_type: string },
  ): Promise<Manifest> {
    const { manifest } = await createContent({
      store: await this.chunkStore(),
      source: (async function* () {
        yield bytes;
      })(),
      metadata,
      instanceKey: this.identity.pubkey,
      findManifest: (hash) => this.manifest(hash),
    });
    await recordManifest(this.db, manifest);
    return manifest;
  }

  /** The whole of a (small) content, verified. */
  async readAll(manifest: Manifest): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of await this.open(manifest)) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * The bytes the user may still upload; a 413 UPLOAD_QUOTA_EXCEEDED when no file or byte is left.
   * (Uploads running at once each see the same remainder: the quota can be passed by at most
   * those uploads, never by a stream of them.)
   */
  private async quotaLeft(user: User): Promise<number> {
    const used = await this.db
      .selectFrom('attachments')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('files'),
        eb.fn.coalesce(eb.fn.sum<number | string>('size'), eb.lit(0)).as('bytes'),
      ])
      .where('uploader_id', '=', user.id)
      .executeTakeFirstOrThrow();
    const bytesLeft = this.quota.bytes - Number(used.bytes);
    if (Number(used.files) >= this.quota.files || bytesLeft <= 0) throw quotaExceeded(this.quota);
    return bytesLeft;
  }

  async manifest(contentHash: string): Promise<Manifest | undefined> {
    const row = await this.db
      .selectFrom('manifests')
      .select('manifest')
      .where('content_hash', '=', contentHash)
      .executeTakeFirst();
    return row === undefined ? undefined : parseManifest(row.manifest);
  }

  /**
   * The attachments a user names by content hash when posting: each must be one they uploaded.
   * Answers the refs the signed message will carry, in the order given.
   */
  async resolveOwnUploads(
    user: User,
    hashes: readonly string[],
    field: string,
  ): Promise<AttachmentRef[]> {
    if (hashes.length === 0) return [];
    const rows = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('uploader_id', '=', user.id)
      .where('content_hash', 'in', [...hashes])
      .orderBy('created_at', 'desc')
      .execute();
    return [...new Set(hashes)].map((hash, i) => {
      const row = rows.find((r) => r.content_hash === hash);
      if (row === undefined)
        throw fieldError(`${field}.${i}`, 'is not the content hash of an upload of yours');
      return {
        content_hash: hash,
        size: Number(row.size),
        filename: row.filename,
        mime_type: row.mime_type,
      };
    });
  }

  /** Records that something refers to content, inside the caller's transaction. */
  async addRefs(
    trx: Kysely<DatabaseSchema>,
    kind: ContentRefKind,
    refId: string,
    refs: readonly AttachmentRef[],
  ): Promise<void> {
    if (refs.length === 0) return;
    await trx
      .insertInto('content_refs')
      .values(
        refs.map((r) => ({
          content_hash: r.content_hash,
          kind,
          ref_id: refId,
          created_at: Date.now(),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /**
   * The boards on which a message carries this content. Only messages that may be shown count: not
   * those of keys banned here (the rule for any reader, so `null`: ignoring a key hides its
   * messages from lists, not their attachments). Boards come through the boards cache.
   */
  async boardsCarrying(contentHash: string): Promise<Board[]> {
    const rows = await visibleTo(
      this.db
        .selectFrom('content_refs')
        .innerJoin('messages', 'messages.id', 'content_refs.ref_id')
        .select('messages.board_id')
        .distinct()
        .where('content_refs.content_hash', '=', contentHash)
        .where('content_refs.kind', '=', 'message'),
      null,
    ).execute();
    const boards: Board[] = [];
    for (const { board_id } of rows) {
      const board = await this.boards.find(board_id);
      if (board !== undefined) boards.push(board);
    }
    return boards;
  }

  /** Whether the user may read this content; false for content that does not exist. */
  async mayRead(user: User | null, contentHash: string): Promise<boolean> {
    if (user !== null && !can(user, 'read')) return false;
    if (user !== null) {
      const own = await this.db
        .selectFrom('attachments')
        .select('id')
        .where('content_hash', '=', contentHash)
        .where('uploader_id', '=', user.id)
        .executeTakeFirst();
      if (own !== undefined) return true;
    }
    // Only the boards that carry it are checked (through the boards cache), not every board.
    for (const board of await this.boardsCarrying(contentHash))
      if (can(user, 'read_board', { board })) return true;
    if (user === null) return false;
    const party = await this.db
      .selectFrom('content_refs')
      .innerJoin('private_messages as pm', 'pm.id', 'content_refs.ref_id')
      .select('pm.id')
      .where('content_refs.content_hash', '=', contentHash)
      .where('content_refs.kind', '=', 'private_message')
      .where((eb) =>
        eb.or([
          eb.and([eb('pm.sender_id', '=', user.id), eb('pm.sender_deleted', '=', false)]),
          eb.and([eb('pm.recipient_id', '=', user.id), eb('pm.recipient_deleted', '=', false)]),
        ]),
      )
      .executeTakeFirst();
    if (party !== undefined) return true;
    const applet = await this.db
      .selectFrom('content_refs')
      .innerJoin('applets', 'applets.id', 'content_refs.ref_id')
      .select('applets.id')
      .where('content_refs.content_hash', '=', contentHash)
      .where('content_refs.kind', '=', 'applet')
      .where('applets.owner_id', '=', user.id)
      // The applet's code only: users' saved data carries the same kind of reference.
      .whereRef('applets.code_hash', '=', 'content_refs.content_hash')
      .executeTakeFirst();
    if (applet !== undefined) return true;
    // An approved applet's asset package: for every member who may run the applet.
    const asset = await this.db
      .selectFrom('content_refs')
      .innerJoin('applets', 'applets.id', 'content_refs.ref_id')
      .select('applets.id')
      .where('content_refs.content_hash', '=', contentHash)
      .where('content_refs.kind', '=', 'applet_asset')
      .where((eb) =>
        eb.or([eb('applets.status', '=', 'approved'), eb('applets.owner_id', '=', user.id)]),
      )
      .executeTakeFirst();
    return asset !== undefined;
  }

  /** The manifest of content the user may read; 404 for anything else. */
  async readable(
    user: User | null,
    contentHash: string,
  ): Promise<{ manifest: Manifest; filename: string; mimeType: string; isPublic: boolean }> {
    const manifest = /^[0-9a-f]{64}$/.test(contentHash)
      ? await this.manifest(contentHash)
      : undefined;
    if (manifest === undefined || !(await this.mayRead(user, contentHash))) {
      // Content evicted from the cache of remote content comes back when a reader asks for it.
      if (manifest === undefined && (await this.mayRead(user, contentHash)))
        await this.remoteReads?.refetch(contentHash);
      throw notFound('content');
    }
    await this.remoteReads?.noteRead(contentHash);
    // The name a reader sees is one they were given: their own upload's, else the one a message
    // they can read carries. Never another uploader's (dedup would leak it): else the hash.
    const own =
      user === null
        ? undefined
        : await this.db
            .selectFrom('attachments')
            .select(['filename', 'mime_type'])
            .where('content_hash', '=', contentHash)
            .where('uploader_id', '=', user.id)
            .orderBy('created_at')
            .executeTakeFirst();
    const given = own === undefined ? await this.nameFromMessages(user, contentHash) : undefined;
    const anyType =
      (own ?? given)
        ? undefined
        : await this.db
            .selectFrom('attachments')
            .select('mime_type')
            .where('content_hash', '=', contentHash)
            .orderBy('created_at')
            .executeTakeFirst();
    return {
      manifest,
      // Public: a visitor could read it too, so shared caches may keep it.
      isPublic: user === null || (await this.mayRead(null, contentHash)),
      filename: own?.filename ?? given?.filename ?? contentHash,
      mimeType:
        own?.mime_type ?? given?.mime_type ?? anyType?.mime_type ?? 'application/octet-stream',
    };
  }

  /** The name and type the oldest message the reader may see gives the content, if any. */
  private async nameFromMessages(
    reader: User | null,
    contentHash: string,
  ): Promise<{ filename: string; mime_type: string } | undefined> {
    const rows = await visibleTo(
      this.db
        .selectFrom('content_refs')
        .innerJoin('messages', 'messages.id', 'content_refs.ref_id')
        .select(['messages.board_id', 'messages.attachments'])
        .where('content_refs.content_hash', '=', contentHash)
        .where('content_refs.kind', '=', 'message')
        .orderBy('messages.seq')
        .limit(100),
      null,
    ).execute();
    for (const row of rows) {
      const board = await this.boards.find(row.board_id);
      if (board === undefined || !can(reader, 'read_board', { board })) continue;
      const ref = (JSON.parse(row.attachments) as AttachmentRef[]).find(
        (a) => a.content_hash === contentHash,
      );
      if (ref !== undefined) return { filename: ref.filename, mime_type: ref.mime_type };
    }
    return undefined;
  }

  /**
   * How far content is: `complete` when stored here, else the state of its fetch from peers
   * (remote_fetches), `absent` when nobody announced it. No rights are checked here.
   */
  async stateOf(contentHash: string): Promise<ContentState> {
    const manifest = await this.manifest(contentHash);
    if (manifest !== undefined) {
      const total = manifest.chunks.length;
      return { state: 'complete', chunksDone: total, chunksTotal: total, lastError: null };
    }
    const row = await this.db
      .selectFrom('remote_fetches')
      .select(['state', 'chunks_done', 'chunks_total', 'last_error'])
      .where('content_hash', '=', contentHash)
      .executeTakeFirst();
    if (row === undefined)
      return { state: 'absent', chunksDone: 0, chunksTotal: 0, lastError: null };
    if (row.state === 'evicted') {
      // Dropped from the cache of remote content: someone looks at it, so it is fetched again.
      await this.remoteReads?.refetch(contentHash);
      return { state: 'pending', chunksDone: 0, chunksTotal: row.chunks_total, lastError: null };
    }
    return {
      state: row.state,
      chunksDone: row.chunks_done,
      chunksTotal: row.chunks_total,
      lastError: row.last_error,
    };
  }

  /** stateOf for a reader: 404 unless a message (or upload…) they may read carries the content. */
  async stateFor(user: User | null, contentHash: string): Promise<ContentState> {
    if (!/^[0-9a-f]{64}$/.test(contentHash) || !(await this.mayRead(user, contentHash)))
      throw notFound('content');
    return this.stateOf(contentHash);
  }

  /** Decrypted bytes (all, or a range), verified as they stream. */
  async open(manifest: Manifest, range?: ByteRange): Promise<Readable> {
    const store = await this.chunkStore();
    const dek = openEnvelope(manifest, this.identity.privateKey);
    return readContent({ store, manifest, dek, ...(range === undefined ? {} : { range }) });
  }

  /**
   * Adds an envelope for another key (a peer trusted later), keeping every existing one. Two re-keys
   * at once both land: the row is replaced only if nobody changed it meanwhile, else read again.
   */
  async rekey(contentHash: string, publicKeyPem: string): Promise<Manifest> {
    for (;;) {
      const row = await this.db
        .selectFrom('manifests')
        .select('manifest')
        .where('content_hash', '=', contentHash)
        .executeTakeFirst();
      if (row === undefined) throw notFound('content');
      const manifest = parseManifest(row.manifest);
      const rekeyed = rekeyManifest(manifest, this.identity.privateKey, [publicKeyPem]);
      const serialized = serializeManifest(rekeyed);
      if (serialized === serializeManifest(manifest)) return manifest;
      const updated = await this.db
        .updateTable('manifests')
        .set({ manifest: serialized })
        .where('content_hash', '=', contentHash)
        .where('manifest', '=', row.manifest)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) return rekeyed;
    }
  }

  /**
   * Records content fetched from peers, every blob stored and the whole verified, inside the
   * caller's transaction: from now on it is read like an upload.
   */
  async addFetched(trx: Kysely<DatabaseSchema>, manifest: Manifest): Promise<void> {
    await recordManifest(trx, manifest);
    await recordChunks(trx, manifest);
  }

  /** Checks every manifest's blobs (deep: decrypts and checks tags and content hashes too). */
  async verifyAll(
    deep: boolean,
    onContent?: (report: VerifyReport) => void,
  ): Promise<VerifyReport[]> {
    const store = await this.chunkStore();
    const failures: VerifyReport[] = [];
    for await (const manifest of this.allManifests()) {
      const report = await verifyContent({
        store,
        manifest,
        ...(deep ? { deep: { dek: openEnvelope(manifest, this.identity.privateKey) } } : {}),
      });
      onContent?.(report);
      if (!report.ok) failures.push(report);
    }
    return failures;
  }

  /**
   * Forgets what nothing refers to: refs of deleted messages and private messages, uploads never
   * attached within the grace period, manifests no attachment or ref names; then removes the blobs
   * no remaining manifest names.
   */
  async collect(
    now = Date.now(),
    blobGraceMs?: number,
  ): Promise<{ attachments: number; manifests: number; garbage: GarbageReport }> {
    await sql`DELETE FROM content_refs WHERE kind = 'message' AND ref_id NOT IN (SELECT id FROM messages)`.execute(
      this.db,
    );
    await sql`DELETE FROM content_refs WHERE kind = 'private_message' AND ref_id NOT IN (SELECT id FROM private_messages)`.execute(
      this.db,
    );
    await sql`DELETE FROM content_refs WHERE kind IN ('applet', 'applet_asset') AND ref_id NOT IN (SELECT id FROM applets)`.execute(
      this.db,
    );
    const attachments = await this.db
      .deleteFrom('attachments')
      .where('created_at', '<', now - UNATTACHED_GRACE_MS)
      .where('content_hash', 'not in', (eb) => eb.selectFrom('content_refs').select('content_hash'))
      .executeTakeFirst();
    const manifests = await this.db
      .deleteFrom('manifests')
      .where('content_hash', 'not in', (eb) => eb.selectFrom('attachments').select('content_hash'))
      .where('content_hash', 'not in', (eb) => eb.selectFrom('content_refs').select('content_hash'))
      .executeTakeFirst();
    await this.db
      .deleteFrom('content_chunks')
      .where('content_hash', 'not in', (eb) => eb.selectFrom('manifests').select('content_hash'))
      .execute();
    const garbage = await collectGarbage({
      store: await this.chunkStore(),
      // Content still being fetched from peers keeps the chunks it already has.
      referenced: concat(this.allManifests(), this.manifestsBeingFetched()),
      ...(blobGraceMs === undefined ? {} : { blobGraceMs }),
      now: new Date(now),
    });
    return {
      attachments: Number(attachments.numDeletedRows),
      manifests: Number(manifests.numDeletedRows),
      garbage,
    };
  }

  private async *manifestsBeingFetched(): AsyncGenerator<Manifest> {
    const rows = await this.db
      .selectFrom('remote_fetches')
      .select('manifest')
      .where('state', 'not in', ['complete', 'evicted'])
      .execute();
    for (const row of rows) yield parseManifest(row.manifest);
  }

  private async *allManifests(): AsyncGenerator<Manifest> {
    let after = '';
    for (;;) {
      const rows = await this.db
        .selectFrom('manifests')
        .select(['content_hash', 'manifest'])
        .where('content_hash', '>', after)
        .orderBy('content_hash')
        .limit(200)
        .execute();
      for (const row of rows) yield parseManifest(row.manifest);
      if (rows.length < 200) return;
      after = rows.at(-1)!.content_hash;
    }
  }
}

const quotaExceeded = (quota: UploadQuota) =>
  new AppError(
    413,
    'UPLOAD_QUOTA_EXCEEDED',
    `your uploads may hold at most ${quota.files} files and ${quota.bytes} bytes in all`,
    { max_files: quota.files, max_bytes: quota.bytes },
  );

/** Passes the upload through, failing it (nothing is recorded) once it passes what is left. */
async function* withinQuota(
  source: AsyncIterable<Uint8Array>,
  allowance: number,
  quota: UploadQuota,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of source) {
    received += chunk.length;
    if (received > allowance) throw quotaExceeded(quota);
    yield chunk;
  }
}

/** Stores a manifest (once: content already known keeps its first row). */
async function recordManifest(
  db: Kysely<DatabaseSchema>,
  manifest: Manifest,
  createdAt = Date.now(),
): Promise<void> {
  await db
    .insertInto('manifests')
    .values({
      content_hash: manifest.content_hash,
      manifest: serializeManifest(manifest),
      size: manifest.size,
      created_at: createdAt,
    })
    .onConflict((oc) => oc.column('content_hash').doNothing())
    .execute();
}

/** Which content each chunk belongs to, so a peer's chunk request can be checked (chunks.ts). */
async function recordChunks(trx: Kysely<DatabaseSchema>, manifest: Manifest): Promise<void> {
  // A few hundred rows per statement keeps under every driver's parameter limit.
  for (let i = 0; i < manifest.chunks.length; i += 400) {
    await trx
      .insertInto('content_chunks')
      .values(
        manifest.chunks
          .slice(i, i + 400)
          .map((chunk) => ({ chunk_hash: chunk, content_hash: manifest.content_hash })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

async function* concat<T>(...sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const source of sources) yield* source;
}
