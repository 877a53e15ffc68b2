// Disk used by stored content, by board (and private messages, applets, unreferenced), by the
// peer remote content came from, and local versus remote. A content is local when it was uploaded here (it has an attachments row);
// content fetched from peers has none. Bytes are the blobs' sizes, exact by the BitSync format.
import { BLOB_OVERHEAD } from '../../../bitsync/format.js';
import type { AxonDatabase } from '../../db/database.js';

export interface UsageLine {
  /** A board's name, or `(private messages)`, `(applets)`, `(unreferenced)`. */
  place: string;
  contents: number;
  bytes: number;
}

export interface ContentUsage {
  places: UsageLine[];
  /** Remote content by the peer it came from (its nickname; a fingerprint's start if unknown). */
  peers: UsageLine[];
  local: { contents: number; bytes: number };
  remote: { contents: number; bytes: number };
}

const PAGE = 500;

export async function contentUsage(database: AxonDatabase): Promise<ContentUsage> {
  const { db } = database;
  const bytesOf = new Map<string, number>();
  let after = '';
  for (;;) {
    const page = await db
      .selectFrom('manifests')
      .select(['content_hash', 'manifest'])
      .where('content_hash', '>', after)
      .orderBy('content_hash')
      .limit(PAGE)
      .execute();
    if (page.length === 0) break;
    for (const row of page) {
      const m = JSON.parse(row.manifest) as { size: number; chunks: string[] };
      bytesOf.set(row.content_hash, m.size + BLOB_OVERHEAD * m.chunks.length);
    }
    after = page.at(-1)!.content_hash;
  }

  const uploaded = new Set(
    (await db.selectFrom('attachments').select('content_hash').distinct().execute()).map(
      (r) => r.content_hash,
    ),
  );
  const places = new Map<string, Set<string>>();
  const file = (place: string, hash: string) => {
    if (!bytesOf.has(hash)) return;
    let set = places.get(place);
    if (set === undefined) places.set(place, (set = new Set()));
    set.add(hash);
  };
  const referenced = new Set<string>();
  const onBoards = await db
    .selectFrom('content_refs')
    .innerJoin('messages', 'messages.id', 'content_refs.ref_id')
    .innerJoin('boards', 'boards.id', 'messages.board_id')
    .select(['content_refs.content_hash as hash', 'boards.name as board'])
    .where('content_refs.kind', '=', 'message')
    .execute();
  for (const r of onBoards) {
    file(r.board, r.hash);
    referenced.add(r.hash);
  }
  const others = await db
    .selectFrom('content_refs')
    .select(['content_hash', 'kind'])
    .where('kind', '!=', 'message')
    .execute();
  for (const r of others) {
    file(r.kind === 'private_message' ? '(private messages)' : '(applets)', r.content_hash);
    referenced.add(r.content_hash);
  }
  for (const hash of bytesOf.keys()) if (!referenced.has(hash)) file('(unreferenced)', hash);

  const sum = (hashes: Iterable<string>) => {
    let bytes = 0;
    let contents = 0;
    for (const h of hashes) {
      bytes += bytesOf.get(h) ?? 0;
      contents++;
    }
    return { contents, bytes };
  };
  const origins = await db
    .selectFrom('remote_fetches')
    .leftJoin('peers', 'peers.fingerprint', 'remote_fetches.origin_peer')
    .select([
      'remote_fetches.content_hash as hash',
      'remote_fetches.origin_peer as peer',
      'peers.nickname',
    ])
    .execute();
  const byPeer = new Map<string, Set<string>>();
  for (const o of origins) {
    if (!bytesOf.has(o.hash) || uploaded.has(o.hash)) continue;
    const name = o.nickname ?? o.peer.slice(0, 16);
    let set = byPeer.get(name);
    if (set === undefined) byPeer.set(name, (set = new Set()));
    set.add(o.hash);
  }
  const lines = (groups: Map<string, Set<string>>) =>
    [...groups.entries()]
      .map(([place, hashes]) => ({ place, ...sum(hashes) }))
      .sort((a, b) => b.bytes - a.bytes || a.place.localeCompare(b.place));
  return {
    places: lines(places),
    peers: lines(byPeer),
    local: sum([...bytesOf.keys()].filter((h) => uploaded.has(h))),
    remote: sum([...bytesOf.keys()].filter((h) => !uploaded.has(h))),
  };
}
