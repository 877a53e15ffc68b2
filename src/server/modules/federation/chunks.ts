// What a trusted peer may take of this instance's content (DESIGN.md §7): the raw blobs and a key
// envelope of content attached to a message on a board shared with that peer, and nothing else.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { isHexSha256, type ByteRange, type Manifest } from '../../../bitsync/index.js';
import type { AppContext } from '../../context.js';
import { notFound } from '../../http/errors.js';

/** The peer asking: its fingerprint (its id) and its public key (PEM), from the peers table. */
export interface AskingPeer {
  fingerprint: string;
  pubkey: string;
}

/**
 * Whether the peer may see this content: a message carrying it (not by a key banned here) is on a
 * board shared with the peer, i.e. one with a federation room that lists the peer.
 */
export async function peerMaySeeContent(
  ctx: AppContext,
  peer: AskingPeer,
  contentHash: string,
): Promise<boolean> {
  return (await ctx.content.boardsCarrying(contentHash)).some(
    (board) => board.federationRoomId !== null && board.trustedPeers.includes(peer.fingerprint),
  );
}

/** A blob the peer may fetch: its length and its bytes (all, or a range), read from the store. */
export interface ServedChunk {
  size: number;
  open(range?: ByteRange): Readable;
}

/** The blob named `chunkHash` for this peer; 404 NOT_FOUND alike for absent and not shared. */
export async function chunkForPeer(
  ctx: AppContext,
  peer: AskingPeer,
  chunkHash: string,
): Promise<ServedChunk> {
  if (!isHexSha256(chunkHash)) throw notFound('chunk');
  const owners = await ctx.database.db
    .selectFrom('content_chunks')
    .select('content_hash')
    .where('chunk_hash', '=', chunkHash)
    .execute();
  let shared = false;
  for (const { content_hash } of owners) {
    if (await peerMaySeeContent(ctx, peer, content_hash)) {
      shared = true;
      break;
    }
  }
  if (!shared) throw notFound('chunk');
  const store = await ctx.content.chunkStore();
  // The blob is served as stored: the asking peer checks it (hash, tag) before keeping it.
  const files = store.blobFiles;
  if (files !== undefined) {
    const file = files.pathOf(chunkHash);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) throw notFound('chunk');
    return {
      size,
      open: (range) => createReadStream(file, range === undefined ? {} : range),
    };
  }
  const blob = await store.get(chunkHash);
  if (blob === undefined) throw notFound('chunk');
  return {
    size: blob.length,
    open: (range) =>
      Readable.from([range === undefined ? blob : blob.subarray(range.start, range.end + 1)]),
  };
}

/**
 * Adds an envelope for the peer's key to content it may see and answers the manifest (every
 * existing envelope kept). This instance holds an envelope for its own key on everything it stores:
 * uploads are sealed for it, and content from peers is stored only once re-keyed for it.
 */
export async function rekeyForPeer(
  ctx: AppContext,
  peer: AskingPeer,
  contentHash: string,
): Promise<Manifest> {
  if (!isHexSha256(contentHash) || !(await peerMaySeeContent(ctx, peer, contentHash)))
    throw notFound('content');
  return ctx.content.rekey(contentHash, peer.pubkey);
}
