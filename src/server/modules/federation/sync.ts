// The sending side of pull (GET /api/federation/sync/) and backfill: a peer reads the log entries
// after its cursor that it may see; a board newly shared with a peer rewinds the peer's cursor so
// the board's recent history (AXON_FEDERATION_BACKFILL entries) reaches it again.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../db/schema.js';
import type { Board } from '../boards/board.js';
import { routingOf, type FederationLog, type Routing } from './log.js';
import { manifestsOf } from './delivery.js';

export interface SyncPage {
  objects: Record<string, unknown>[];
  manifests: Record<string, unknown>;
  routing: Record<string, Routing>;
  next_cursor: string;
}

/**
 * One page for the asking peer. Asking with cursor n says the peer holds everything it may see up
 * to n (it moves its cursor only after applying a page), so the push cursor moves up to n too.
 */
export async function syncPage(
  db: Kysely<DatabaseSchema>,
  log: FederationLog,
  peerFingerprint: string,
  cursor: number,
  bounds: { limit: number; maxBytes: number },
): Promise<SyncPage> {
  if (cursor > 0) {
    await db
      .insertInto('peer_delivery')
      .values({ peer_fingerprint: peerFingerprint, acked_seq: cursor })
      .onConflict((oc) =>
        oc
          .column('peer_fingerprint')
          .doUpdateSet({ acked_seq: cursor })
          .where('peer_delivery.acked_seq', '<', cursor),
      )
      .execute();
  }
  const page = await log.readForPeer(peerFingerprint, cursor, bounds);
  return {
    objects: page.entries.map((e) => e.object),
    manifests: manifestsOf(page.entries),
    routing: routingOf(page.entries),
    next_cursor: String(page.last),
  };
}

/**
 * After a board's sharing changed: each peer that can see the board now and could not before gets
 * its push cursor moved back to just before the board's last `depth` log entries (what it already
 * has comes back as duplicates). Messages posted before the board had its federation_room_id are
 * signed for another board value and stay local.
 */
export async function backfill(
  db: Kysely<DatabaseSchema>,
  before: Pick<Board, 'federationRoomId' | 'trustedPeers'> | undefined,
  after: Pick<Board, 'federationRoomId' | 'trustedPeers'>,
  depth: number,
): Promise<string[]> {
  // Returns the peers that can see the board now and could not before.
  const room = after.federationRoomId;
  if (room === null) return [];
  const sameRoom = before?.federationRoomId === room;
  const added = after.trustedPeers.filter((p) => !sameRoom || !before.trustedPeers.includes(p));
  if (added.length === 0) return [];
  const recent = await db
    .selectFrom('federation_log')
    .select('seq')
    .where('room_id', '=', room)
    .orderBy('seq', 'desc')
    .limit(depth)
    .execute();
  const oldest = recent.at(-1);
  if (oldest === undefined) return added;
  const target = Number(oldest.seq) - 1;
  for (const peer of added) {
    await db
      .updateTable('peer_delivery')
      .set({ acked_seq: target })
      .where('peer_fingerprint', '=', peer)
      .where('acked_seq', '>', target)
      .execute();
  }
  return added;
}
