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
import type { MessageEdits } from '../boards/edits.js';
import {
  remoteDisplayName,
  signedNickname,
  toMessage,
  type MessageService,
} from '../boards/messages.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import { z } from 'zod';
import { InboxLimits } from './inbox-limits.js';
import type { FederatedActions } from './actions.js';
import type { LiveRooms } from './live-rooms.js';
import type { FederationLog, Routing } from './log.js';
import {
  checkObject,
  objectIdOf,
  type DeleteObject,
  type EditObject,
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
  /** What the sender vouches for beside each object (log.ts, Routing); checked by RoutingSchema. */
  routing?: Record<string, Routing> | undefined;
}

/** An instance nickname as peers name each other: no control characters, no `@`. */
const InstanceNickname = z
  .string()
  .min(1)
  .max(100)
  .refine((v) => !/[\u0000-\u001f\u007f@]/.test(v), 'must not contain control characters or @');

/** The routing beside a batch's objects, by object id (docs/federation.md, "Routing"). */
export const RoutingSchema = z
  .record(
    z.string().max(64),
    z.strictObject({
      origin: InstanceNickname.optional(),
      room: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,100}$/)
        .optional(),
    }),
  )
  .refine((r) => Object.keys(r).length <= 500, 'at most 500 entries');

/** Where a batch sits in the sender's log: the seq before its first entry, and its last. */
export interface BatchPosition {
  after: number;
  last: number;
}

/** How long a batch waits for the one before it (in flight at the same time) before applying. */
const ORDER_WAIT_MS = 10_000;

/** Deletions of messages not here yet, kept per peer at most, and for at most this long. */
export const PENDING_DELETES_PER_PEER = 1_000;
export const PENDING_DELETE_TTL_MS = 7 * 24 * 3600_000;

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
    /** AXON_PEER_OBJECTS_PER_MINUTE: a peer's limit when its row sets none. */
    objectsPerMinute = 60_000,
  ) {
    this.limits = new InboxLimits(database, objectsPerMinute);
  }

  /** What one peer may make the inbox do (objects per minute, requests at once). */
  readonly limits: InboxLimits;

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

  /** Stores the edits of messages this inbox receives (boards/edits.ts); set once, in context.ts. */
  edits: MessageEdits | undefined;

  /** Takes the FederatedActions (moderation) this inbox receives; set once, in context.ts. */
  actions: FederatedActions | undefined;

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
    if (check.object.type === 'action') {
      // Moderation: applied, or recorded as refused, by the federated actions (actions.ts).
      if (this.actions === undefined) return refused(id, 'federated actions not taken here');
      try {
        return await this.actions.apply(peer, check.object, check.authorFingerprint);
      } catch (error) {
        if (isUniqueViolation(error)) return { id, status: 'duplicate' };
        throw error;
      }
    }
    if (await this.bannedPubkeys.isBanned(check.authorFingerprint)) {
      return refused(id, 'author banned here');
    }
    if (await this.log.has(this.db, id)) return { id, status: 'duplicate' };
    try {
      const { object, authorPem, authorFingerprint } = check;
      const routing = Object.hasOwn(batch.routing ?? {}, id) ? batch.routing![id]! : {};
      // The instance it was made on: as the sender vouches when it relays, else the sender.
      const origin = routing.origin ?? peer.nickname;
      switch (object.type) {
        case 'message':
          return await this.applyMessage(peer, { object, authorPem, authorFingerprint }, batch, {
            origin,
            room: routing.room ?? object.board,
          });
        case 'delete':
          return await this.applyDelete(peer, { object, authorPem, authorFingerprint }, origin);
        case 'profile':
          return await this.applyProfile(peer, { object, authorPem, authorFingerprint }, origin);
        case 'edit':
          return await this.applyEdit(peer, { object, authorPem, authorFingerprint }, origin);
        case 'event':
        case 'room_state':
          if (this.live === undefined) return refused(id, 'live rooms are not served here');
          return object.type === 'event'
            ? await this.live.applyEvent(peer, { object, authorPem, authorFingerprint }, origin)
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
    { origin, room }: { origin: string; room: string },
  ): Promise<ObjectResult> {
    const board = await this.sharedBoard({ roomId: room }, peer);
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
            ? remoteDisplayName(object.author.nickname, origin)
            : object.author.nickname,
        authorInstance: local === undefined ? origin : null,
        subject: object.subject,
        body: object.body,
        attachments: object.attachments,
        signature: object.signature,
        createdAt: Date.parse(object.created_at),
        deleted: null,
      },
      { object, authorPem, receivedFrom: peer.fingerprint, manifests, origin },
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
    await this.applyPendingDeletes(object.id);
    return { id: object.id, status: 'accepted' };
  }

  /**
   * A deletion of a message not here yet (it may come later, by another batch or peer): kept,
   * checked again and applied when the message arrives. At most PENDING_DELETES_PER_PEER wait per
   * peer, each at most PENDING_DELETE_TTL_MS; past the cap the deletion is refused.
   */
  private async keepPendingDelete(
    peer: Sender,
    { object, authorFingerprint }: Checked<DeleteObject>,
  ): Promise<ObjectResult> {
    const now = Date.now();
    await this.db
      .deleteFrom('federation_pending_deletes')
      .where('peer_fingerprint', '=', peer.fingerprint)
      .where('received_at', '<', now - PENDING_DELETE_TTL_MS)
      .execute();
    const { n } = await this.db
      .selectFrom('federation_pending_deletes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('peer_fingerprint', '=', peer.fingerprint)
      .executeTakeFirstOrThrow();
    if (Number(n) >= PENDING_DELETES_PER_PEER) {
      return refused(
        object.id,
        `message unknown here, and ${PENDING_DELETES_PER_PEER} deletions from this peer wait for their messages already`,
      );
    }
    await this.db
      .insertInto('federation_pending_deletes')
      .values({
        id: object.id,
        object_id: object.object_id,
        peer_fingerprint: peer.fingerprint,
        author_fingerprint: authorFingerprint,
        object: JSON.stringify(object),
        received_at: now,
      })
      .execute();
    return { id: object.id, status: 'accepted' };
  }

  /** The message arrived: apply the deletions that waited for it (each checked as on receipt). */
  private async applyPendingDeletes(messageId: string): Promise<void> {
    const pending = await this.db
      .selectFrom('federation_pending_deletes')
      .select(['id', 'object', 'peer_fingerprint'])
      .where('object_id', '=', messageId)
      .where('received_at', '>=', Date.now() - PENDING_DELETE_TTL_MS)
      .execute();
    await this.db
      .deleteFrom('federation_pending_deletes')
      .where('object_id', '=', messageId)
      .execute();
    for (const row of pending) {
      const check = checkObject(JSON.parse(row.object));
      if (!check.ok || check.object.type !== 'delete') continue;
      const { object, authorPem, authorFingerprint } = check;
      if (await this.log.has(this.db, object.id)) continue;
      // The author's own signed deletion: whichever peer brought it, the board must be shared
      // with that peer still (checked by applyDelete, as on receipt).
      const known = await this.db
        .selectFrom('peers')
        .select('nickname')
        .where('fingerprint', '=', row.peer_fingerprint)
        .executeTakeFirst();
      const sender = { fingerprint: row.peer_fingerprint, nickname: known?.nickname ?? '' };
      const result = await this.applyDelete(
        sender,
        { object, authorPem, authorFingerprint },
        sender.nickname,
      );
      if (result.status === 'accepted') break;
    }
  }

  private async applyDelete(
    peer: Sender,
    { object, authorPem, authorFingerprint }: Checked<DeleteObject>,
    origin: string,
  ): Promise<ObjectResult> {
    const row = await this.messages.findRow(object.object_id);
    if (row === undefined) {
      return this.keepPendingDelete(peer, { object, authorPem, authorFingerprint });
    }
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
        origin,
      });
    });
    if (seq !== undefined) this.log.announce(seq);
    this.messages.announce(board.id);
    return { id: object.id, status: 'accepted' };
  }

  /**
   * The author's edit of a message of theirs: applied only when the author's key signed it, it
   * comes from the instance the message was posted on (the sender, or the origin it vouches for
   * when relaying) and the message's board is shared with the sender. The message shows it when
   * it is newer than the version shown; it joins the message's history either way.
   */
  private async applyEdit(
    peer: Sender,
    { object, authorFingerprint }: Checked<EditObject>,
    origin: string,
  ): Promise<ObjectResult> {
    if (this.edits === undefined) return refused(object.id, 'edits not taken here');
    const row = await this.messages.findRow(object.object_id);
    if (row === undefined) return refused(object.id, 'message unknown here');
    if (row.author_fingerprint !== authorFingerprint) {
      return refused(object.id, "edit not signed by the message's author");
    }
    if (row.author_instance === null || row.author_instance !== origin) {
      return refused(object.id, "edit not from the message's origin");
    }
    if (object.author.nickname !== signedNickname(toMessage(row))) {
      return refused(object.id, 'edit names the author otherwise than the message');
    }
    const board = await this.sharedBoard({ id: row.board_id }, peer);
    if (board === undefined) return refused(object.id, 'board not shared with the sender');
    if (await this.edits.isEvent(row)) return refused(object.id, 'events are not edited');
    if (row.deleted_at !== null) return refused(object.id, 'message deleted');
    const stored = await this.edits.storeReceived(board, row, {
      object,
      createdAt: Date.parse(object.created_at),
      receivedFrom: peer.fingerprint,
      origin,
    });
    return stored ? { id: object.id, status: 'accepted' } : refused(object.id, 'message deleted');
  }

  private async applyProfile(
    peer: Sender,
    { object, authorFingerprint }: Checked<ProfileObject>,
    origin: string,
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
    const seq = await this.db.transaction().execute(async (trx) => {
      await storeRemoteProfile(trx, object, authorFingerprint, origin, avatar);
      return this.log.append(trx, {
        object,
        roomId: null,
        authorFingerprint,
        receivedFrom: peer.fingerprint,
        origin,
      });
    });
    if (seq !== undefined) this.log.announce(seq);
    return { id: object.id, status: 'accepted' };
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
