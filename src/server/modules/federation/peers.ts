// The registry of peer instances this one trusts (DESIGN.md §7): adding one only after its
// fingerprint is confirmed, key changes held until a sysop accepts them, transports and limits.
// Sysops act through the API, the operator through the CLI (`by` absent).
import type { Selectable, Transaction } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DatabaseSchema, PeersTable } from '../../db/schema.js';
import { AppError, conflict, fieldError, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';
import { assertCan } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import { actorFor } from '../moderation/banned-pubkeys.js';
import { boardChannel } from '../boards/board.js';
import type { IdentityDocument, IdentityFetcher } from './identity-fetch.js';
import { isOnionUrl, type PeerInput, type PeerPatch } from './peer-schema.js';

export type PeerRow = Selectable<PeersTable>;

/** The registry holds at most this many peers, so health, metrics and the board form stay bounded. */
export const MAX_PEERS = 500;

export class PeerRegistry {
  constructor(
    private readonly database: AxonDatabase,
    private readonly hub: EventHub,
    private readonly fetchIdentity: IdentityFetcher,
    private readonly ownFingerprint: string,
  ) {}

  private get db() {
    return this.database.db;
  }

  private async authorize(by: User | undefined): Promise<void> {
    if (by !== undefined) assertCan(await actorFor(this.db, by), 'manage_peers');
  }

  async list(
    query: { cursor?: string | undefined; limit: number },
    by?: User,
  ): Promise<Page<PeerRow>> {
    await this.authorize(by);
    let q = this.db
      .selectFrom('peers')
      .selectAll()
      .orderBy('fingerprint')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [after] = decodeCursor(query.cursor, ['s']);
      q = q.where('fingerprint', '>', after as string);
    }
    return toPage(
      await q.execute(),
      query.limit,
      (r) => [r.fingerprint],
      (r) => r,
    );
  }

  /** Every peer (at most MAX_PEERS): for health, metrics and the CLI. */
  async all(by?: User): Promise<PeerRow[]> {
    await this.authorize(by);
    return this.db.selectFrom('peers').selectAll().orderBy('nickname').limit(MAX_PEERS).execute();
  }

  async get(fingerprint: string, by?: User): Promise<PeerRow> {
    await this.authorize(by);
    return this.find(fingerprint);
  }

  private async find(fingerprint: string): Promise<PeerRow> {
    const row = await this.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    if (row === undefined) throw notFound('peer');
    return row;
  }

  /**
   * Fetches the identity at input.base_url through the chosen transport and stores the peer only
   * when input.fingerprint confirms it; without one, answers PEER_CONFIRMATION_REQUIRED with what
   * the peer showed, and stores nothing.
   */
  async add(input: PeerInput, by?: User): Promise<PeerRow> {
    await this.authorize(by);
    await this.refuseKnown('base_url', input.base_url);
    const identity = await this.fetchIdentity(input.base_url, input);
    const shown = shownIdentity(input.base_url, identity);
    if (input.fingerprint === undefined) {
      throw conflict(
        'PEER_CONFIRMATION_REQUIRED',
        "confirm the peer's fingerprint with its sysop, then send it back as `fingerprint`",
        shown,
      );
    }
    if (input.fingerprint !== identity.fingerprint) {
      throw conflict(
        'PEER_FINGERPRINT_MISMATCH',
        `the peer shows the key ${identity.fingerprint}, not ${input.fingerprint}: it is not added`,
        { ...shown, expected: input.fingerprint },
      );
    }
    if (identity.fingerprint === this.ownFingerprint)
      throw fieldError('body.base_url', 'is this instance itself');
    await this.refuseKnown('fingerprint', identity.fingerprint);
    if ((await this.count()) >= MAX_PEERS)
      throw fieldError('body.base_url', `the registry holds ${MAX_PEERS} peers, its limit`);
    const now = Date.now();
    try {
      await this.db
        .insertInto('peers')
        .values({
          fingerprint: identity.fingerprint,
          pubkey: identity.pubkey,
          base_url: input.base_url,
          nickname: input.nickname ?? identity.nickname,
          trusted: input.trusted,
          trusted_for_moderation: input.trusted_for_moderation,
          transport: input.transport,
          proxy_url: input.proxy_url,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      // Another sysop added the same instance at the same moment.
      if (isUniqueViolation(error)) throw peerExists();
      throw error;
    }
    return this.find(identity.fingerprint);
  }

  async update(fingerprint: string, patch: PeerPatch, by?: User): Promise<PeerRow> {
    await this.authorize(by);
    const row = await this.find(fingerprint);
    const transport = patch.transport ?? row.transport;
    // Moving off socks5 drops its proxy; onto it needs one.
    const proxy =
      patch.proxy_url !== undefined
        ? patch.proxy_url
        : transport === 'socks5'
          ? row.proxy_url
          : null;
    if (transport === 'socks5' && proxy === null)
      throw fieldError('body.proxy_url', 'is required with socks5');
    if (transport !== 'socks5' && proxy !== null)
      throw fieldError('body.proxy_url', 'is only used with socks5');
    if (transport === 'direct' && isOnionUrl(row.base_url))
      throw fieldError('body.transport', 'a .onion peer is reached through a proxy');
    await this.db
      .updateTable('peers')
      .set({
        ...(patch.trusted === undefined ? {} : { trusted: patch.trusted }),
        ...(patch.trusted_for_moderation === undefined
          ? {}
          : { trusted_for_moderation: patch.trusted_for_moderation }),
        ...(patch.nickname === undefined ? {} : { nickname: patch.nickname }),
        ...(patch.max_attachment_bytes === undefined
          ? {}
          : { max_attachment_bytes: patch.max_attachment_bytes }),
        ...(patch.bytes_per_day === undefined ? {} : { bytes_per_day: patch.bytes_per_day }),
        ...(patch.objects_per_minute === undefined
          ? {}
          : { objects_per_minute: patch.objects_per_minute }),
        transport,
        proxy_url: proxy,
        updated_at: Date.now(),
      })
      .where('fingerprint', '=', fingerprint)
      .execute();
    return this.find(fingerprint);
  }

  /**
   * Fetches the peer's identity again. The same key clears any pending change; another key is
   * held as pending (the peer stays trusted under its old key only) until a sysop accepts it.
   */
  async refresh(fingerprint: string, by?: User): Promise<{ keyChanged: boolean; peer: PeerRow }> {
    await this.authorize(by);
    const row = await this.find(fingerprint);
    const identity = await this.fetchIdentity(row.base_url, row);
    const keyChanged = identity.fingerprint !== row.fingerprint;
    await this.db
      .updateTable('peers')
      .set({
        pending_fingerprint: keyChanged ? identity.fingerprint : null,
        pending_pubkey: keyChanged ? identity.pubkey : null,
        updated_at: Date.now(),
      })
      .where('fingerprint', '=', fingerprint)
      .execute();
    return { keyChanged, peer: await this.find(fingerprint) };
  }

  /**
   * A trusted peer's signed key-change notice (key-change.ts, already checked): the new key waits
   * as pending, as after a refresh that found it; nothing is trusted until a sysop accepts it.
   */
  async holdKeyChange(change: {
    previousFingerprint: string;
    fingerprint: string;
    pubkey: string;
  }): Promise<PeerRow> {
    const row = await this.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', change.previousFingerprint)
      .executeTakeFirst();
    if (row === undefined || !row.trusted) {
      throw new AppError(
        403,
        'FEDERATION_UNTRUSTED',
        'the key this notice replaces is not a peer this instance trusts',
      );
    }
    if (change.fingerprint === this.ownFingerprint)
      throw fieldError('body.pubkey', 'is this instance itself');
    await this.db
      .updateTable('peers')
      .set({
        pending_fingerprint: change.fingerprint,
        pending_pubkey: change.pubkey,
        updated_at: Date.now(),
      })
      .where('fingerprint', '=', change.previousFingerprint)
      .execute();
    return this.find(change.previousFingerprint);
  }

  /**
   * Accepts a pending key change: `confirmed` must be the pending fingerprint. The peer moves to its
   * new key with its delivery state and the boards shared with it, in one transaction.
   */
  async acceptKey(fingerprint: string, confirmed: string, by?: User): Promise<PeerRow> {
    await this.authorize(by);
    const row = await this.find(fingerprint);
    if (row.pending_fingerprint === null || row.pending_pubkey === null)
      throw conflict('NO_KEY_CHANGE', 'this peer has no key change waiting: refresh it first');
    if (confirmed !== row.pending_fingerprint) {
      throw conflict(
        'PEER_FINGERPRINT_MISMATCH',
        `the pending key is ${row.pending_fingerprint}, not ${confirmed}: nothing changed`,
        { fingerprint: row.pending_fingerprint, expected: confirmed },
      );
    }
    const next = row.pending_fingerprint;
    const pubkey = row.pending_pubkey;
    if (next === this.ownFingerprint)
      throw fieldError('body.fingerprint', 'is this instance itself');
    const boards = await this.db.transaction().execute(async (trx) => {
      const taken = await trx
        .selectFrom('peers')
        .select('fingerprint')
        .where('fingerprint', '=', next)
        .executeTakeFirst();
      if (taken !== undefined) throw peerExists();
      await trx
        .updateTable('peers')
        .set({
          fingerprint: next,
          pubkey,
          pending_fingerprint: null,
          pending_pubkey: null,
          updated_at: Date.now(),
        })
        .where('fingerprint', '=', fingerprint)
        .execute();
      await trx
        .updateTable('peer_delivery')
        .set({ peer_fingerprint: next })
        .where('peer_fingerprint', '=', fingerprint)
        .execute();
      return rewriteBoardPeers(
        trx,
        (peers) => peers.map((p) => (p === fingerprint ? next : p)),
        fingerprint,
      );
    });
    await this.announceBoards(boards);
    return this.find(next);
  }

  /** Removes the peer, its delivery state and its place on every board shared with it. */
  async remove(fingerprint: string, by?: User): Promise<void> {
    await this.authorize(by);
    await this.find(fingerprint);
    const boards = await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('peer_delivery').where('peer_fingerprint', '=', fingerprint).execute();
      await trx.deleteFrom('peers').where('fingerprint', '=', fingerprint).execute();
      return rewriteBoardPeers(trx, (peers) => peers.filter((p) => p !== fingerprint), fingerprint);
    });
    await this.announceBoards(boards);
  }

  private async count(): Promise<number> {
    const row = await this.db
      .selectFrom('peers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async refuseKnown(column: 'base_url' | 'fingerprint', value: string): Promise<void> {
    const row = await this.db
      .selectFrom('peers')
      .select('fingerprint')
      .where(column, '=', value)
      .executeTakeFirst();
    if (row !== undefined) throw peerExists(row.fingerprint);
  }

  /** Boards cache their rows: each one whose peers changed is announced, here and to other processes. */
  private async announceBoards(ids: string[]): Promise<void> {
    for (const id of ids) {
      await notifyOtherProcesses(this.db, this.database.dialect, boardChannel(id), 0);
      this.hub.publish(boardChannel(id), 0);
    }
  }
}

const peerExists = (fingerprint?: string) =>
  conflict(
    'PEER_EXISTS',
    'this instance is in the peer registry already',
    fingerprint === undefined ? undefined : { fingerprint },
  );

/** What the sysop is asked to confirm: the fingerprint (also grouped in fours) and names. */
function shownIdentity(baseUrl: string, identity: IdentityDocument): Record<string, unknown> {
  return {
    fingerprint: identity.fingerprint,
    nickname: identity.nickname,
    base_url: baseUrl,
    announced_base_url: identity.base_url,
  };
}

/** Rewrites trusted_peers on each board listing `fingerprint`; returns those boards' ids. */
async function rewriteBoardPeers(
  trx: Transaction<DatabaseSchema>,
  change: (peers: string[]) => string[],
  fingerprint: string,
): Promise<string[]> {
  const boards = await trx
    .selectFrom('boards')
    .select(['id', 'trusted_peers'])
    .where('trusted_peers', 'like', `%${fingerprint}%`)
    .execute();
  const changed: string[] = [];
  for (const board of boards) {
    const peers = JSON.parse(board.trusted_peers) as string[];
    if (!peers.includes(fingerprint)) continue;
    await trx
      .updateTable('boards')
      .set({ trusted_peers: JSON.stringify([...new Set(change(peers))]), updated_at: Date.now() })
      .where('id', '=', board.id)
      .execute();
    changed.push(board.id);
  }
  return changed;
}
