// Live rooms across instances (docs/realtime.md, "Rooms across instances"): events of a shared
// realtime board travel as signed `event` objects through the log (pushed the moment they are
// appended) and reach readers here through the same publishEvent as a local post; a shared room's
// state has one writer, the room's home instance, which orders versions and announces each as a
// signed `room_state` object; presence is reported to the room's peers and shown as nickname@peer.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { signObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, PeerRow } from '../../db/schema.js';
import { AppError, fieldError, forbidden } from '../../http/errors.js';
import type { Session } from '../accounts/sessions.js';
import {
  ROOM_STATE_MAX_BYTES,
  type RoomState,
  type RoomStateService,
} from '../applets/room-state.js';
import { toBoard, type Board } from '../boards/board.js';
import { remoteDisplayName, type MessageService } from '../boards/messages.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import { PRESENCE_WINDOW_MS } from '../realtime/presence.js';
import type { FederationResponse } from './client.js';
import type { ObjectResult, Sender } from './inbox.js';
import type { FederationLog } from './log.js';
import { checkObject, type EventObject, type RoomStateObject } from './objects.js';

export const ROOM_WRITE_PATH = '/api/federation/rooms/state/';
export const PRESENCE_PATH = '/api/federation/presence/';
/**
 * Times a room write may be relayed toward the home after the writer's instance forwarded it (a
 * chain C → B → A is one relay); beyond, it is refused, so a loop of homes naming each other ends.
 */
export const ROOM_WRITE_RELAYS_MAX = 3;
/** Users in one presence report, at most. */
export const PRESENCE_REPORT_MAX = 500;
/** Users of one peer kept present in one room, at most (its most recently seen). */
const REMOTE_PRESENT_MAX = 1000;

export interface PeerCaller {
  request(
    peer: PeerRow,
    request: { method: 'POST'; path: string; body: unknown; maxBytes?: number },
  ): Promise<FederationResponse>;
}

type Checked<T> = { object: T; authorPem: string; authorFingerprint: string };

const refused = (id: string, reason: string): ObjectResult => ({ id, status: 'refused', reason });

/** A room's state as the API answers it (and as the home answers a forwarded write). */
export interface RoomStateJson {
  room_id: string;
  version: number;
  state: unknown;
  updated_by: string | null;
  updated_at: string | null;
}

export class LiveRooms {
  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly roomState: RoomStateService,
    private readonly bannedPubkeys: BannedPubkeys,
    private readonly log: FederationLog,
    private readonly client: PeerCaller,
    private readonly onError: (error: unknown) => void,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Our board for the room, when it lists the peer among its trusted_peers; else undefined. */
  private async sharedBoard(roomId: string, peerFingerprint: string): Promise<Board | undefined> {
    const row = await this.db
      .selectFrom('boards')
      .selectAll()
      .where('federation_room_id', '=', roomId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const board = toBoard(row);
    return board.trustedPeers.includes(peerFingerprint) ? board : undefined;
  }

  /** The account here with that key, if any (a remote author never passes for a local one). */
  private async localUser(fingerprint: string) {
    return this.db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
  }

  /** An event object from the inbox: stored like a local event and handed to this room's readers. */
  /** `origin`: the instance the event was posted on (the sender's word when it relays). */
  async applyEvent(
    peer: Sender,
    checked: Checked<EventObject>,
    origin: string = peer.nickname,
  ): Promise<ObjectResult> {
    const { object, authorPem, authorFingerprint } = checked;
    const board = await this.sharedBoard(object.board, peer.fingerprint);
    if (board === undefined) return refused(object.id, 'board not shared with the sender');
    if (!board.isRealtime) return refused(object.id, 'board is not a real-time board');
    if (await this.messages.findRow(object.id)) return { id: object.id, status: 'duplicate' };
    const local = await this.localUser(authorFingerprint);
    await this.messages.insertRemote(
      board,
      {
        seq: 0,
        id: object.id,
        boardId: board.id,
        boardRef: object.board,
        parentId: null,
        threadId: object.id,
        authorId: local?.id ?? null,
        authorFingerprint,
        authorNickname:
          local === undefined
            ? remoteDisplayName(object.author.nickname, origin)
            : object.author.nickname,
        authorInstance: local === undefined ? origin : null,
        subject: object.subject,
        body: object.body,
        attachments: [],
        signature: object.signature,
        createdAt: Date.parse(object.created_at),
        deleted: null,
      },
      {
        object,
        authorPem,
        receivedFrom: peer.fingerprint,
        manifests: null,
        origin,
        eventSubject: object.subject,
      },
    );
    return { id: object.id, status: 'accepted' };
  }

  /**
   * A room_state object from the inbox: a version the room's home decided. Only the home may
   * announce versions; one not newer than ours changes nothing (versions never go backwards).
   */
  async applyRoomState(peer: Sender, checked: Checked<RoomStateObject>): Promise<ObjectResult> {
    const { object, authorFingerprint } = checked;
    const board = await this.sharedBoard(object.board, peer.fingerprint);
    if (board === undefined) return refused(object.id, 'board not shared with the sender');
    if (board.federationHome === null) {
      // Both sides leave federation_home unset, so each decides its own versions: the refusal
      // says so plainly, for the sysop who reads the sender's delivery results.
      return refused(
        object.id,
        "the sender is not the room's home: this instance is (both claim it; one must name the other in federation_home)",
      );
    }
    if (board.federationHome !== peer.fingerprint) {
      return refused(object.id, "the sender is not the room's home");
    }
    const local = await this.localUser(authorFingerprint);
    const by = local?.username ?? remoteDisplayName(object.author.nickname, peer.nickname);
    try {
      await this.storeVersion(board, object, authorFingerprint, by, peer.fingerprint);
    } catch (error) {
      if (error instanceof AppError) return refused(object.id, 'state too large');
      throw error;
    }
    return { id: object.id, status: 'accepted' };
  }

  /**
   * Stores a version the home decided, logged (so it is relayed to the room's other peers) in the
   * same transaction; a version already here is still logged once, so it is relayed all the same.
   */
  private async storeVersion(
    board: Board,
    object: RoomStateObject,
    authorFingerprint: string,
    by: string,
    from: string,
  ): Promise<void> {
    let seq: number | undefined;
    const append = async (trx: Kysely<DatabaseSchema>) => {
      seq = await this.log.append(trx, {
        object,
        roomId: board.federationRoomId,
        authorFingerprint,
        receivedFrom: from,
      });
    };
    const written = await this.roomState.applyVersion(
      board,
      object.room_id,
      { version: object.version, state: object.state, by, at: Date.parse(object.created_at) },
      append,
    );
    if (!written) await this.db.transaction().execute(append);
    if (seq !== undefined) this.log.announce(seq);
  }

  /**
   * A user's compare-and-set on a room's state. A room not shared is written here as before; on
   * the room's home, the write is decided here and logged (pushed to every instance of the room);
   * elsewhere it is forwarded, signed, to the home, which decides it.
   */
  async write(
    session: Session,
    board: Board,
    roomId: string,
    input: { version: number; state: unknown },
  ): Promise<RoomState> {
    const user = session.user;
    if (board.federationRoomId === null) {
      return this.roomState.set(board, roomId, input, user.username);
    }
    if (Buffer.byteLength(JSON.stringify(input.state) ?? '', 'utf8') > ROOM_STATE_MAX_BYTES) {
      // The same refusal the room state service gives, before signing anything.
      return this.roomState.set(board, roomId, input, user.username);
    }
    const { signature: _none, ...unsigned } = {
      type: 'room_state' as const,
      id: uuidv7(),
      board: board.federationRoomId,
      room_id: roomId,
      version: input.version + 1,
      state: input.state,
      author: { pubkey: user.pubkey, nickname: user.nickname },
      created_at: new Date().toISOString(),
      signature: '',
    };
    const object = signObject(unsigned, session.privateKey()) as unknown as RoomStateObject;
    if (board.federationHome === null) {
      let seq: number | undefined;
      const state = await this.roomState.set(board, roomId, input, user.username, async (trx) => {
        seq = await this.log.append(trx, {
          object,
          roomId: board.federationRoomId,
          authorFingerprint: user.fingerprint,
          receivedFrom: null,
        });
      });
      if (seq !== undefined) this.log.announce(seq);
      return state;
    }
    const decided = await this.forward(board.federationHome, object, 0);
    await this.storeVersion(board, object, user.fingerprint, user.username, board.federationHome);
    return {
      roomId,
      version: decided.version,
      state: decided.state,
      updatedBy: user.username,
      updatedAt: decided.updated_at === null ? null : Date.parse(decided.updated_at),
    };
  }

  /**
   * Sends a write toward the room's home (the peer named in federation_home: the home, or a peer
   * that relays to it); its refusals come back as they are (a 409 with `current`).
   */
  private async forward(
    home: string,
    object: RoomStateObject,
    relays: number,
  ): Promise<RoomStateJson> {
    const peer = await this.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', home)
      .where('trusted', '=', true)
      .executeTakeFirst();
    if (peer === undefined) {
      throw new AppError(502, 'PEER_UNREACHABLE', "the room's home is not a trusted peer", {
        reason: 'not a trusted peer',
      });
    }
    let answer: FederationResponse;
    try {
      answer = await this.client.request(peer, {
        method: 'POST',
        path: ROOM_WRITE_PATH,
        body: relays === 0 ? { object } : { object, relays },
        maxBytes: 1024 * 1024,
      });
    } catch (error) {
      throw new AppError(502, 'PEER_UNREACHABLE', "the room's home could not be reached", {
        reason: (error as Error).message,
      });
    }
    type Envelope = {
      data: RoomStateJson | null;
      error: { code: string; message: string; details?: Record<string, unknown> } | null;
    };
    let envelope: Envelope;
    try {
      envelope = answer.json<Envelope>();
    } catch {
      throw new AppError(502, 'PEER_UNREACHABLE', "the room's home answered something else", {
        reason: `status ${answer.status}, not JSON`,
      });
    }
    if (answer.status === 200 && envelope.data !== null) return envelope.data;
    if (answer.status === 409 && envelope.error?.code === 'VERSION_CONFLICT') {
      throw new AppError(409, 'VERSION_CONFLICT', envelope.error.message, envelope.error.details);
    }
    throw new AppError(502, 'PEER_UNREACHABLE', "the room's home refused the write", {
      reason: `${answer.status} ${envelope.error?.code ?? ''}: ${envelope.error?.message ?? ''}`,
    });
  }

  /**
   * A write forwarded by a peer (the signed route): decided here when this instance is the room's
   * home and the peer shares the room; logged, so every instance of the room gets the version.
   * Elsewhere it is relayed toward the home (a chain C–B–A where C does not know A), at most
   * ROOM_WRITE_RELAYS_MAX times, and the home's version is stored here on the way back.
   */
  async forwardedWrite(peer: PeerRow, input: unknown, relays = 0): Promise<RoomState> {
    const check = checkObject(input);
    if (!check.ok) throw fieldError('body.object', check.reason);
    if (check.object.type !== 'room_state') {
      throw fieldError('body.object.type', 'must be room_state');
    }
    const object = check.object;
    if (await this.bannedPubkeys.isBanned(check.authorFingerprint)) {
      throw forbidden("the author's key is banned here", 'PUBKEY_BANNED');
    }
    const board = await this.sharedBoard(object.board, peer.fingerprint);
    if (board === undefined) {
      throw forbidden('that room is not shared with your instance', 'ROOM_NOT_SHARED');
    }
    const local = await this.localUser(check.authorFingerprint);
    const by = local?.username ?? remoteDisplayName(object.author.nickname, peer.nickname);
    if (board.federationHome !== null) {
      return this.relay(peer, board, object, check.authorFingerprint, by, relays);
    }
    let seq: number | undefined;
    const state = await this.roomState.set(
      board,
      object.room_id,
      { version: object.version - 1, state: object.state },
      by,
      async (trx) => {
        seq = await this.log.append(trx, {
          object,
          roomId: board.federationRoomId,
          authorFingerprint: check.authorFingerprint,
          receivedFrom: null,
        });
      },
    );
    if (seq !== undefined) this.log.announce(seq);
    return state;
  }

  /** A forwarded write passed on toward the home; the decided version is stored here too. */
  private async relay(
    peer: PeerRow,
    board: Board,
    object: RoomStateObject,
    authorFingerprint: string,
    by: string,
    relays: number,
  ): Promise<RoomState> {
    const home = board.federationHome!;
    if (home === peer.fingerprint) {
      throw new AppError(
        409,
        'NOT_ROOM_HOME',
        "this instance is not the room's home: it names your instance as the way to it",
      );
    }
    if (relays >= ROOM_WRITE_RELAYS_MAX) {
      throw new AppError(
        409,
        'NOT_ROOM_HOME',
        `this instance is not the room's home, and the write was relayed ${relays} times already`,
      );
    }
    const decided = await this.forward(home, object, relays + 1);
    await this.storeVersion(board, object, authorFingerprint, by, home);
    return {
      roomId: object.room_id,
      version: decided.version,
      state: decided.state,
      updatedBy: decided.updated_by,
      updatedAt: decided.updated_at === null ? null : Date.parse(decided.updated_at),
    };
  }

  /**
   * After presence marks are written: tells each shared realtime room's peers who of ours is
   * there (one signed request per room and peer, not awaited by anyone).
   */
  async reportPresence(rows: ReadonlyArray<{ board_id: string; user_id: string }>): Promise<void> {
    const byBoard = new Map<string, string[]>();
    for (const r of rows) byBoard.set(r.board_id, [...(byBoard.get(r.board_id) ?? []), r.user_id]);
    for (const [boardId, userIds] of byBoard) {
      const row = await this.db
        .selectFrom('boards')
        .selectAll()
        .where('id', '=', boardId)
        .executeTakeFirst();
      if (row === undefined) continue;
      const board = toBoard(row);
      if (board.federationRoomId === null || board.trustedPeers.length === 0) continue;
      const peers = await this.db
        .selectFrom('peers')
        .selectAll()
        .where('fingerprint', 'in', board.trustedPeers)
        .where('trusted', '=', true)
        .execute();
      for (let i = 0; i < userIds.length; i += PRESENCE_REPORT_MAX) {
        const users = await this.db
          .selectFrom('users')
          .select(['fingerprint', 'nickname'])
          .where('id', 'in', userIds.slice(i, i + PRESENCE_REPORT_MAX))
          .execute();
        const body = { room: board.federationRoomId, users };
        for (const peer of peers) {
          this.client
            .request(peer, { method: 'POST', path: PRESENCE_PATH, body, maxBytes: 64 * 1024 })
            .catch(this.onError);
        }
      }
    }
  }

  /** A peer's report of its users in a shared room: shown here as nickname@peer for a minute. */
  async receivePresence(
    peer: PeerRow,
    report: { room: string; users: Array<{ fingerprint: string; nickname: string }> },
  ): Promise<void> {
    const board = await this.sharedBoard(report.room, peer.fingerprint);
    if (board === undefined) {
      throw forbidden('that room is not shared with your instance', 'ROOM_NOT_SHARED');
    }
    const now = Date.now();
    const fingerprints = report.users.map((u) => u.fingerprint);
    const locals = new Set(
      fingerprints.length === 0
        ? []
        : (
            await this.db
              .selectFrom('users')
              .select('fingerprint')
              .where('fingerprint', 'in', fingerprints)
              .execute()
          ).map((u) => u.fingerprint),
    );
    const rows = report.users
      .filter((u) => !locals.has(u.fingerprint))
      .map((u) => ({
        board_id: board.id,
        fingerprint: u.fingerprint,
        nickname: remoteDisplayName(u.nickname, peer.nickname),
        peer_fingerprint: peer.fingerprint,
        last_seen: now,
      }));
    await this.db.transaction().execute(async (trx) => {
      // Who left the window goes: the table holds at most the rooms' recent remote users.
      await trx
        .deleteFrom('remote_presence')
        .where('board_id', '=', board.id)
        .where('last_seen', '<=', now - PRESENCE_WINDOW_MS)
        .execute();
      if (rows.length === 0) return;
      await trx
        .insertInto('remote_presence')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['board_id', 'fingerprint']).doUpdateSet((eb) => ({
            nickname: eb.ref('excluded.nickname'),
            peer_fingerprint: eb.ref('excluded.peer_fingerprint'),
            last_seen: eb.ref('excluded.last_seen'),
          })),
        )
        .execute();
      // However often a peer reports, it holds at most REMOTE_PRESENT_MAX rows per room.
      await trx
        .deleteFrom('remote_presence')
        .where('board_id', '=', board.id)
        .where('peer_fingerprint', '=', peer.fingerprint)
        .where('fingerprint', 'not in', (eb) =>
          eb
            .selectFrom('remote_presence as kept')
            .select('kept.fingerprint')
            .where('kept.board_id', '=', board.id)
            .where('kept.peer_fingerprint', '=', peer.fingerprint)
            .orderBy('kept.last_seen', 'desc')
            .limit(REMOTE_PRESENT_MAX),
        )
        .execute();
    });
  }
}
