// The federation log (DESIGN.md §7): the append-only list of objects this instance originates or
// relays, numbered by seq. Push and pull both read it; what a peer may see is decided here.
import { sql, type Kysely } from 'kysely';
import { canonicalJson, type SignedObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import type { Realtime } from '../realtime/realtime.js';

/** One log entry as it travels: the signed object and, beside it, its manifests. */
export interface LogEntry {
  seq: number;
  objectId: string;
  type: string;
  object: SignedObject;
  manifests: Record<string, unknown> | null;
  size: number;
  /** The federation_room_id it is filed under; null for profiles and instance-wide actions. */
  roomId: string | null;
  /** The instance it was made on, as the peer it came from vouched; null: made here. */
  origin: string | null;
}

export interface NewLogEntry {
  object: SignedObject;
  /** The federation_room_id of the board it belongs to; null for profiles and instance-wide actions. */
  roomId: string | null;
  authorFingerprint: string;
  /** The peer it came from (never sent back there); null when it was made here. */
  receivedFrom: string | null;
  manifests?: Record<string, unknown> | null;
  /** Received: the instance it was made on (the routing's origin, else the sender's nickname). */
  origin?: string | null;
}

/**
 * What a sender vouches for beside an object, outside its signature (docs/federation.md,
 * "Routing"): the instance it was made on, and the room it is filed under when that is not the
 * object's own `board` (history posted before the board was shared).
 */
export interface Routing {
  origin?: string;
  room?: string;
}

/** The routing of the entries that need one (relayed, or filed under another room). */
export function routingOf(entries: readonly LogEntry[]): Record<string, Routing> {
  const routing: Record<string, Routing> = {};
  for (const e of entries) {
    const room =
      e.type === 'message' && e.roomId !== null && e.object.board !== e.roomId
        ? e.roomId
        : undefined;
    if (e.origin === null && room === undefined) continue;
    routing[e.objectId] = {
      ...(e.origin === null ? {} : { origin: e.origin }),
      ...(room === undefined ? {} : { room }),
    };
  }
  return routing;
}

export interface ReadBounds {
  limit: number;
  maxBytes: number;
}

/** A page of entries, and the cursor after the last of them. */
export interface LogPage {
  entries: LogEntry[];
  /** The seq of the last entry returned; `after` itself when there is nothing to return. */
  last: number;
}

// Any 64-bit number: taken by every appender on PostgreSQL until its commit, so entries commit in
// seq order and a reader that saw seq n never later finds a smaller seq appear behind its cursor.
const APPEND_LOCK = 0x4158_4f4e_4c4f;

export class FederationLog {
  constructor(
    private readonly database: AxonDatabase,
    private readonly realtime: Realtime,
  ) {}

  /**
   * Appends inside the caller's transaction (the same one as the local write), unless an entry
   * with this object id is already there. Returns the new seq, or undefined for a duplicate. Call
   * it last in the transaction: on PostgreSQL it holds a lock until the commit.
   */
  async append(trx: Kysely<DatabaseSchema>, entry: NewLogEntry): Promise<number | undefined> {
    if (this.database.dialect === 'postgres') {
      await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK})`.execute(trx);
    }
    if (await this.has(trx, String(entry.object.id))) return undefined;
    const object = canonicalJson(entry.object);
    const manifests =
      entry.manifests == null || Object.keys(entry.manifests).length === 0
        ? null
        : JSON.stringify(entry.manifests);
    const { seq } = await trx
      .insertInto('federation_log')
      .values({
        object_id: String(entry.object.id),
        type: String(entry.object.type),
        room_id: entry.roomId,
        received_from: entry.receivedFrom,
        author_fingerprint: entry.authorFingerprint,
        object,
        manifests,
        size: Buffer.byteLength(object) + (manifests === null ? 0 : Buffer.byteLength(manifests)),
        created_at: Date.now(),
        origin: entry.origin ?? null,
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
    await this.realtime.notifyInTransaction(trx, { kind: 'federation' }, Number(seq));
    return Number(seq);
  }

  /** After the commit of an append: wakes this process's delivery. */
  announce(seq: number): void {
    this.realtime.publish({ kind: 'federation' }, seq);
  }

  async has(db: Kysely<DatabaseSchema>, objectId: string): Promise<boolean> {
    const row = await db
      .selectFrom('federation_log')
      .select('seq')
      .where('object_id', '=', objectId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The highest seq given out so far (0 when the log is empty). */
  async head(): Promise<number> {
    const row = await this.database.db
      .selectFrom('federation_log')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  /**
   * The entries after `after` that the peer may see, oldest first: objects of the boards shared
   * with it (their federation_room_id set and the peer in trusted_peers), profile updates of
   * authors who posted on those boards, and this instance's moderators' instance-wide actions;
   * never what came from the peer itself. At most `limit`
   * entries and `maxBytes` bytes (but always at least one entry when there is one). A page that
   * ends short of the limit ends at the log's head: what lies between is nothing the peer may see,
   * and the next read starts after it instead of scanning it again (a receiver's own log is
   * mostly what its one sender sent it).
   */
  async readForPeer(peerFingerprint: string, after: number, bounds: ReadBounds): Promise<LogPage> {
    // Read before the entries: seqs commit in order, so every entry up to it is visible below.
    const head = await this.head();
    if (head <= after) return { entries: [], last: after };
    const shared = await sharedBoardsOf(this.database.db, peerFingerprint);
    if (shared.length === 0) return { entries: [], last: after };
    const rooms = shared.map((b) => b.roomId);
    const boardIds = shared.map((b) => b.id);
    const scanned = await this.database.db
      .selectFrom('federation_log')
      .select([
        'seq',
        'object_id',
        'type',
        'author_fingerprint',
        'object',
        'manifests',
        'size',
        'room_id',
        'origin',
      ])
      .where('seq', '>', after)
      .where((eb) =>
        eb.or([eb('received_from', 'is', null), eb('received_from', '!=', peerFingerprint)]),
      )
      .where((eb) =>
        eb.or([
          eb('room_id', 'in', rooms),
          eb('type', '=', 'profile'),
          // A moderator's instance-wide action (ban, unban, profile correction): every peer
          // sharing a board gets it, and decides by its own trust whether to apply it.
          eb.and([eb('type', '=', 'action'), eb('room_id', 'is', null)]),
        ]),
      )
      .orderBy('seq')
      .limit(bounds.limit)
      .execute();
    // Profiles only of authors seen on the shared boards: one indexed look for the page's authors
    // (a subquery over the boards' messages would cost the boards' size on every read).
    const profileAuthors = [
      ...new Set(
        scanned.filter((r) => r.type === 'profile').map((r) => r.author_fingerprint ?? ''),
      ),
    ];
    const seen =
      profileAuthors.length === 0
        ? new Set<string>()
        : new Set(
            (
              await this.database.db
                .selectFrom('messages')
                .select('author_fingerprint')
                .distinct()
                .where('author_fingerprint', 'in', profileAuthors)
                .where('board_id', 'in', boardIds)
                .execute()
            ).map((r) => r.author_fingerprint),
          );
    const rows = scanned.filter(
      (r) => r.type !== 'profile' || seen.has(r.author_fingerprint ?? ''),
    );
    const entries: LogEntry[] = [];
    let bytes = 0;
    for (const r of rows) {
      const size = Number(r.size);
      if (entries.length > 0 && bytes + size > bounds.maxBytes) break;
      bytes += size;
      entries.push({
        seq: Number(r.seq),
        objectId: r.object_id,
        type: r.type,
        object: JSON.parse(r.object) as SignedObject,
        manifests:
          r.manifests === null ? null : (JSON.parse(r.manifests) as Record<string, unknown>),
        size,
        roomId: r.room_id,
        origin: r.origin,
      });
    }
    // Cut short by bytes: the page ends at its last entry. Else at the last entry scanned (seen or
    // not), or, when the scan reached the end, at the head.
    if (entries.length < rows.length) return { entries, last: entries.at(-1)!.seq };
    const lastScanned = Number(scanned.at(-1)?.seq ?? after);
    return {
      entries,
      last: scanned.length < bounds.limit ? Math.max(head, lastScanned) : lastScanned,
    };
  }
}

export interface SharedBoard {
  id: string;
  roomId: string;
}

/** The boards shared with a peer: a federation_room_id, and the peer among their trusted_peers. */
export async function sharedBoardsOf(
  db: Kysely<DatabaseSchema>,
  peerFingerprint: string,
): Promise<SharedBoard[]> {
  const rows = await db
    .selectFrom('boards')
    .select(['id', 'federation_room_id', 'trusted_peers'])
    .where('federation_room_id', 'is not', null)
    .execute();
  return rows
    .filter((r) => (JSON.parse(r.trusted_peers) as string[]).includes(peerFingerprint))
    .map((r) => ({ id: r.id, roomId: r.federation_room_id! }));
}
