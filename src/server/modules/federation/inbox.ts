// The inbox: a batch of objects from a trusted peer, applied one by one, each answered accepted,
// duplicate or refused (with the reason). Nothing is applied for a refused object; accepted ones
// are stored through the boards service, logged (relayed to the board's other peers) and
// published to waiting readers like local posts.
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema, PeersTable } from '../../db/schema.js';
import { imageType } from '../accounts/service.js';
import { toBoard, type Board } from '../boards/board.js';
import { remoteDisplayName, type MessageService } from '../boards/messages.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import type { LiveRooms } from './live-rooms.js';
import type { FederationLog } from './log.js';
import {
  checkObject,
  objectIdOf,
  type DeleteObject,
  type MessageObject,
  type ProfileObject,
} from './objects.js';
import { storeRemoteProfile } from './profiles.js';

export type Sender = Pick<Selectable<PeersTable>, 'fingerprint' | 'nickname'>;

export type ObjectStatus = 'accepted' | 'duplicate' | 'refused';

export interface ObjectResult {
  id: string;
  status: ObjectStatus;
  reason?: string;
}

export interface Batch {
  objects: unknown[];
  manifests?: Record<string, unknown> | undefined;
}

/** Where a batch sits in the sender's log: the seq before its first entry, and its last. */
export interface BatchPosition {
  after: number;
  last: number;
}

/** How long a batch waits for the one before it (in flight at the same time) before applying. */
const ORDER_WAIT_MS = 10_000;

type Checked<T> = { object: T; authorPem: string; authorFingerprint: string };

const refused = (id: string, reason: string): ObjectResult => ({ id, status: 'refused', reason });

export class Inbox {
  /** Events and room states of shared realtime rooms (live-rooms.ts); set when the app is built. */
  live: LiveRooms | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly bannedPubkeys: BannedPubkeys,
    private readonly log: FederationLog,
    /**
     * Told of the manifests beside each accepted message (remote-content.ts records a fetch job
     * per content); the message shows at once, its attachments pending until fetched.
     */
    private readonly onManifests: (
      peerFingerprint: string,
      manifests: Record<string, unknown>,
    ) => Promise<unknown> = async () => undefined,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /**
   * Applies a batch in order and counts it in the peer's delivery row. Batches of one sender are
   * applied one after the other in this process. A batch that says where it sits in the sender's
   * log (`position`: the sender's seq before its first entry and of its last) waits, a while, for
   * the batch before it, so batches sent together are applied in the sender's order; the sender's
   * seq up to which everything arrived is kept as the pull cursor (peer_delivery.pulled_cursor).
   */
  async applyBatch(peer: Sender, batch: Batch, position?: BatchPosition): Promise<ObjectResult[]> {
    if (position !== undefined) await this.turnOf(peer.fingerprint, position.after);
    const previous = this.applying.get(peer.fingerprint) ?? Promise.resolve();
    const mine = previous.then(async () => {
      const results = await this.applyInOrder(peer, batch);
      if (position !== undefined) await this.advance(peer.fingerprint, position);
      return results;
    });
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.applying.set(peer.fingerprint, settled);
    void settled.then(() => {
      if (this.applying.get(peer.fingerprint) === settled) this.applying.delete(peer.fingerprint);
    });
    return mine;
  }

  private readonly applying = new Map<string, Promise<void>>();
  /** Per sender: its seq up to which everything arrived, and batches waiting for their turn. */
  private readonly arrived = new Map<string, { cursor: number; waiters: Set<() => void> }>();

  /** The sender's seq up to which everything from it arrived here (0: nothing yet). */
  async cursorOf(peer: string): Promise<number> {
    return (await this.arrivedOf(peer)).cursor;
  }

  private async arrivedOf(peer: string) {
    let state = this.arrived.get(peer);
    if (state === undefined) {
      const row = await this.db
        .selectFrom('peer_delivery')
        .select('pulled_cursor')
        .where('peer_fingerprint', '=', peer)
        .executeTakeFirst();
      state = this.arrived.get(peer) ?? {
        cursor: Number(row?.pulled_cursor ?? 0),
        waiters: new Set(),
      };
      this.arrived.set(peer, state);
    }
    return state;
  }

  /** Resolves once everything up to `after` arrived, or after ORDER_WAIT_MS (a lost batch). */
  private async turnOf(peer: string, after: number): Promise<void> {
    const state = await this.arrivedOf(peer);
    if (after <= state.cursor) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        state.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (after <= state.cursor) done();
      };
      const timer = setTimeout(done, ORDER_WAIT_MS);
      state.waiters.add(check);
    });
  }

  /** After a batch: the cursor moves over it when nothing before it is missing. */
  private async advance(peer: string, position: BatchPosition): Promise<void> {
    const state = await this.arrivedOf(peer);
    if (position.after > state.cursor || position.last <= state.cursor) return;
    state.cursor = position.last;
    await this.db
      .updateTable('peer_delivery')
      .set({ pulled_cursor: String(position.last) })
      .where('peer_fingerprint', '=', peer)
      .execute();
    for (const check of [...state.waiters]) check();
  }

  private async applyInOrder(peer: Sender, batch: Batch): Promise<ObjectResult[]> {
    const results: ObjectResult[] = [];
    for (const input of batch.objects) results.push(await this.applyOne(peer, input, batch));
    const accepted = results.filter((r) => r.status !== 'refused').length;
    const bytes = Buffer.byteLength(JSON.stringify(batch.objects));
    await this.count(peer.fingerprint, accepted, bytes, results.length - accepted);
    return results;
  }

  private async applyOne(peer: Sender, input: unknown, batch: Batch): Promise<ObjectResult> {
    const id = objectIdOf(input);
    const check = checkObject(input);
    if (!check.ok) return refused(id, check.reason);
    if (await this.bannedPubkeys.isBanned(check.authorFingerprint)) {
      return refused(id, 'author banned here');
    }
    if (await this.log.has(this.db, id)) return { id, status: 'duplicate' };
    try {
      const { object, authorPem, authorFingerprint } = check;
      switch (object.type) {
        case 'message':
          return await this.applyMessage(peer, { object, authorPem, authorFingerprint }, batch);
        case 'delete':
          return await this.applyDelete(peer, { object, authorPem, authorFingerprint });
        case 'profile':
          return await this.applyProfile(peer, { object, authorPem, authorFingerprint });
        case 'event':
        case 'room_state':
          if (this.live === undefined) return refused(id, 'live rooms are not served here');
          return object.type === 'event'
            ? await this.live.applyEvent(peer, { object, authorPem, authorFingerprint })
            : await this.live.applyRoomState(peer, { object, authorPem, authorFingerprint });
      }
    } catch (error) {
      // Two batches carrying the same object at once: the second insert loses the race.
      if (isUniqueViolation(error)) return { id, status: 'duplicate' };
      throw error;
    }
  }

  /** A board of ours with this federation_room_id (or id) that lists the sender; else undefined. */
  private async sharedBoard(
    by: { roomId: string | null } | { id: string },
    peer: Sender,
  ): Promise<Board | undefined> {
    let query = this.db.selectFrom('boards').selectAll();
    if ('id' in by) query = query.where('id', '=', by.id);
    else if (by.roomId === null) return undefined;
    else query = query.where('federation_room_id', '=', by.roomId);
    const row = await query.executeTakeFirst();
    if (row === undefined) return undefined;
    const board = toBoard(row);
    const shared = board.federationRoomId !== null && board.trustedPeers.includes(peer.fingerprint);
    return shared ? board : undefined;
  }

  private async applyMessage(
    peer: Sender,
    { object, authorPem, authorFingerprint }: Checked<MessageObject>,
    batch: Batch,
  ): Promise<ObjectResult> {
    const board = await this.sharedBoard({ roomId: object.board }, peer);
    if (board === undefined) return refused(object.id, 'board not shared with the sender');
    if (await this.messages.findRow(object.id)) return { id: object.id, status: 'duplicate' };
    // Batches in flight together may arrive out of order: a reply whose parent is not here yet
    // joins the thread named after the parent, and is moved when the parent arrives (below).
    let threadId = object.id;
    if (object.parent_id !== null) {
      const parent = await this.messages.findRow(object.parent_id);
      if (parent !== undefined && parent.board_id !== board.id) {
        return refused(object.id, 'parent message is on another board');
      }
      threadId = parent?.thread_id ?? object.parent_id;
    }
    // An author with an account here (a post of ours coming back another way) stays local.
    const local = await this.db
      .selectFrom('users')
      .select(['id'])
      .where('fingerprint', '=', authorFingerprint)
      .executeTakeFirst();
    const manifests = Object.fromEntries(
      object.attachments
        .map((a) => [a.content_hash, batch.manifests?.[a.content_hash]] as const)
        .filter(([, m]) => m !== undefined),
    );
    await this.messages.insertRemote(
      board,
      {
        seq: 0,
        id: object.id,
        boardId: board.id,
        boardRef: object.board,
        parentId: object.parent_id,
        threadId,
        authorId: local?.id ?? null,
        authorFingerprint,
        authorNickname:
          local === undefined
            ? remoteDisplayName(object.author.nickname, peer.nickname)
            : object.author.nickname,
        authorInstance: local === undefined ? peer.nickname : null,
        subject: object.subject,
        body: object.body,
        attachments: object.attachments,
        signature: object.signature,
        createdAt: Date.parse(object.created_at),
        deleted: null,
      },
      { object, authorPem, receivedFrom: peer.fingerprint, manifests },
      async (trx) => {
        if (threadId === object.id) return;
        await trx
          .updateTable('messages')
          .set({ thread_id: threadId })
          .where('thread_id', '=', object.id)
          .where('board_id', '=', board.id)
          .execute();
      },
    );
    if (Object.keys(manifests).length > 0) await this.onManifests(peer.fingerprint, manifests);
    return { id: object.id, status: 'accepted' };
  }

  private async applyDelete(
    peer: Sender,
    { object, authorFingerprint }: Checked<DeleteObject>,
  ): Promise<ObjectResult> {
    const row = await this.messages.findRow(object.object_id);
    if (row === undefined) return refused(object.id, 'message unknown here');
    if (row.author_fingerprint !== authorFingerprint) {
      return refused(object.id, "deletion not signed by the message's author");
    }
    const board = await this.sharedBoard({ id: row.board_id }, peer);
    if (board === undefined) {
      return refused(object.id, 'board not shared with the sender');
    }
    const seq = await this.db.transaction().execute(async (trx) => {
      await this.messages.remove(trx, row.id, board.id, {});
      return this.log.append(trx, {
        object,
        roomId: board.federationRoomId,
        authorFingerprint,
        receivedFrom: peer.fingerprint,
      });
    });
    if (seq !== undefined) this.log.announce(seq);
    this.messages.announce(board.id);
    return { id: object.id, status: 'accepted' };
  }

  private async applyProfile(
    peer: Sender,
    { object, authorFingerprint }: Checked<ProfileObject>,
  ): Promise<ObjectResult> {
    const local = await this.db
      .selectFrom('users')
      .select('id')
      .where('fingerprint', '=', authorFingerprint)
      .executeTakeFirst();
    if (local !== undefined) return refused(object.id, 'author is a local user');
    // Only authors this instance has seen on a board it shares with the sender.
    const seen = await this.db
      .selectFrom('messages')
      .innerJoin('boards', 'boards.id', 'messages.board_id')
      .select(['boards.federation_room_id'])
      .where('messages.author_fingerprint', '=', authorFingerprint)
      .where('boards.federation_room_id', 'is not', null)
      .groupBy('boards.federation_room_id')
      .execute();
    const shared = await Promise.all(
      seen.map((s) => this.sharedBoard({ roomId: s.federation_room_id }, peer)),
    );
    if (!shared.some((b) => b !== undefined)) return refused(object.id, 'author unknown here');
    let avatar: { bytes: Buffer; mime: string; hash: string } | null = null;
    if (object.avatar !== null) {
      const bytes = Buffer.from(object.avatar.data, 'base64');
      const mime = imageType(bytes);
      if (mime !== object.avatar.mime_type)
        return refused(object.id, 'avatar is not its image type');
      avatar = { bytes, mime, hash: createHash('sha256').update(bytes).digest('hex') };
    }
    const instance = await this.authorInstance(authorFingerprint, peer);
    const seq = await this.db.transaction().execute(async (trx) => {
      await storeRemoteProfile(trx, object, authorFingerprint, instance, avatar);
      return this.log.append(trx, {
        object,
        roomId: null,
        authorFingerprint,
        receivedFrom: peer.fingerprint,
      });
    });
    if (seq !== undefined) this.log.announce(seq);
    return { id: object.id, status: 'accepted' };
  }

  /** The instance a remote author's messages came through (the sender when none is stored). */
  private async authorInstance(fingerprint: string, peer: Sender): Promise<string> {
    const row = await this.db
      .selectFrom('messages')
      .select('author_instance')
      .where('author_fingerprint', '=', fingerprint)
      .where('author_instance', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    return row?.author_instance ?? peer.nickname;
  }

  private async count(peer: string, objects: number, bytes: number, refusedCount: number) {
    await this.db
      .insertInto('peer_delivery')
      .values({
        peer_fingerprint: peer,
        objects_in: objects,
        bytes_in: bytes,
        refused_in: refusedCount,
      })
      .onConflict((oc) =>
        oc.column('peer_fingerprint').doUpdateSet((eb) => ({
          objects_in: eb('peer_delivery.objects_in', '+', objects),
          bytes_in: eb('peer_delivery.bytes_in', '+', bytes),
          refused_in: eb('peer_delivery.refused_in', '+', refusedCount),
        })),
      )
      .execute();
  }
}
