// Private messages between instances (docs/federation.md, "Private messages"): addresses
// `name@instance`, remote users' public keys (asked of their instance with a signed request, kept
// in a bounded cache), the signed `private_message` object and what a receiver checks before it
// stores one. Only ciphertext and key envelopes ever leave or enter: the text stays sealed.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { parsePublicKey, PublicKeyFormatError } from '../../../crypto/keys.js';
import { verifyObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, PeerRow } from '../../db/schema.js';
import { AppError, fieldError } from '../../http/errors.js';
import { rememberPubkey } from '../accounts/known-pubkeys.js';
import { FederationError, type FederationClient } from '../federation/client.js';
import { isPubkeyBanned } from '../moderation/banned-pubkeys.js';
import type { Realtime } from '../realtime/realtime.js';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A sealed letter's ciphertext, in base64 characters, at most: a 64 KiB body whose every character
 * JSON escapes to six, a 255-character subject, sealed (28 bytes more), in base64.
 */
export const CIPHERTEXT_MAX_CHARS = 600_000;
/** The body of the receiving route, at most. */
export const PM_BODY_LIMIT = 700 * 1024;

/** The federated form of a private message (DESIGN.md §7): the ciphertext and envelopes signed. */
export const PrivateMessageObject = z.strictObject({
  type: z.literal('private_message'),
  id: z.string().regex(UUID7, 'must be a UUIDv7'),
  from: z.strictObject({
    pubkey: z.string().max(2048),
    nickname: z.string().min(1).max(50),
  }),
  to: z.string().regex(FINGERPRINT, 'must be a key fingerprint'),
  ciphertext: z.base64().min(1).max(CIPHERTEXT_MAX_CHARS),
  envelopes: z
    .record(z.string().regex(FINGERPRINT), z.base64().min(1).max(1400))
    .refine((e) => Object.keys(e).length <= 2, 'at most two envelopes: recipient and sender'),
  created_at: z.iso.datetime({ offset: false, precision: 3 }),
  signature: z.string().min(1).max(1024),
});
export type PrivateMessageObject = z.output<typeof PrivateMessageObject>;

/** A remote user's key as its instance answers it. */
export const RemoteUserKey = z.strictObject({
  username: z.string().min(1).max(64),
  nickname: z.string().min(1).max(50),
  pubkey: z.string().min(1).max(2048),
  fingerprint: z.string().regex(FINGERPRINT),
});
export type RemoteUserKey = z.output<typeof RemoteUserKey>;

/** A cached key is used without asking again for this long. */
export const KEY_FRESH_MS = 5 * 60 * 1000;
/** When the instance cannot be reached, an older cached key still seals a message (it waits). */
export const KEY_STALE_MS = 30 * 24 * 60 * 60 * 1000;
/** Cached keys, at most (about 1 KiB each); the least recently fetched go first. */
export const KEY_CACHE_MAX = 10_000;
const KEY_ANSWER_LIMIT = 16 * 1024;

/** `name@instance` split at its last `@`; undefined when `to` is not a remote address. */
export function parseAddress(to: string): { name: string; instance: string } | undefined {
  const at = to.lastIndexOf('@');
  if (at < 0) return undefined;
  const name = to.slice(0, at).trim();
  const instance = to.slice(at + 1).trim();
  if (name === '' || instance === '' || name.includes('@')) {
    throw fieldError('body.to', 'a remote address is name@instance');
  }
  return { name, instance };
}

/** A trusted peer by its nickname or the host of its base URL (either case). */
export async function findPeer(
  db: Kysely<DatabaseSchema>,
  instance: string,
): Promise<PeerRow | undefined> {
  const wanted = instance.toLowerCase();
  const peers = await db.selectFrom('peers').selectAll().where('trusted', '=', true).execute();
  const matches = peers.filter(
    (p) => p.nickname.toLowerCase() === wanted || new URL(p.base_url).host.toLowerCase() === wanted,
  );
  if (matches.length > 1) {
    throw fieldError('body.to', `"${instance}" names more than one instance; use its host`);
  }
  return matches[0];
}

/** Remote users' keys: asked of their instance with a signed request, cached with a bound. */
export class RemoteKeys {
  constructor(
    private readonly database: AxonDatabase,
    private readonly client: Pick<FederationClient, 'request'>,
    /** Entries kept, at most. */
    private readonly maxEntries = KEY_CACHE_MAX,
  ) {}

  /**
   * The key of `name` (a username or a key fingerprint) on `peer`: the cached one while fresh,
   * else asked again (a changed key replaces the old). When the peer cannot be reached, a cached
   * key up to KEY_STALE_MS old still serves (the message waits in the outbox); else PEER_UNREACHABLE.
   */
  async lookup(peer: PeerRow, name: string, now = Date.now()): Promise<RemoteUserKey> {
    const key = name.toLowerCase();
    const cached = await this.database.db
      .selectFrom('remote_user_keys')
      .selectAll()
      .where('peer_fingerprint', '=', peer.fingerprint)
      .where('name', '=', key)
      .executeTakeFirst();
    if (cached !== undefined && now - cached.fetched_at < KEY_FRESH_MS) return cached;
    let fetched: RemoteUserKey | undefined;
    try {
      fetched = await this.fetch(peer, name);
    } catch (error) {
      if (!(error instanceof FederationError)) throw error;
      if (cached !== undefined && now - cached.fetched_at < KEY_STALE_MS) return cached;
      throw new AppError(502, 'PEER_UNREACHABLE', `${peer.nickname} could not be reached`, {
        reason: error.message,
      });
    }
    if (fetched === undefined) {
      await this.forget(peer.fingerprint, key);
      throw fieldError('body.to', `no user "${name}" on ${peer.nickname}`);
    }
    await this.store(peer.fingerprint, key, fetched, now);
    return fetched;
  }

  /** Drops every cached entry of a key on that peer (its owner's key changed). */
  async forgetKey(peerFingerprint: string, fingerprint: string): Promise<void> {
    await this.database.db
      .deleteFrom('remote_user_keys')
      .where('peer_fingerprint', '=', peerFingerprint)
      .where('fingerprint', '=', fingerprint)
      .execute();
  }

  private async forget(peerFingerprint: string, name: string): Promise<void> {
    await this.database.db
      .deleteFrom('remote_user_keys')
      .where('peer_fingerprint', '=', peerFingerprint)
      .where('name', '=', name)
      .execute();
  }

  /** undefined: the peer answered that it has no such user. */
  private async fetch(peer: PeerRow, name: string): Promise<RemoteUserKey | undefined> {
    const answer = await this.client.request(peer, {
      method: 'GET',
      path: `/api/federation/users/${encodeURIComponent(name)}/key/`,
      maxBytes: KEY_ANSWER_LIMIT,
    });
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) {
      throw new FederationError(`the key lookup answered ${answer.status}`, answer.status);
    }
    const parsed = RemoteUserKey.safeParse(answer.json<{ data?: unknown }>().data);
    if (!parsed.success) throw new FederationError('the key lookup answered something else');
    let key: { pem: string; fingerprint: string };
    try {
      key = parsePublicKey(parsed.data.pubkey);
    } catch (error) {
      if (error instanceof PublicKeyFormatError) {
        throw new FederationError('the key lookup answered a malformed key');
      }
      throw error;
    }
    const asked = name.toLowerCase();
    if (
      key.fingerprint !== parsed.data.fingerprint ||
      (FINGERPRINT.test(asked) && asked !== key.fingerprint) ||
      (!FINGERPRINT.test(asked) && asked !== parsed.data.username.toLowerCase())
    ) {
      throw new FederationError('the key lookup answered for another user or key');
    }
    return { ...parsed.data, pubkey: key.pem };
  }

  private async store(peer: string, name: string, key: RemoteUserKey, now: number) {
    const row = { ...key, peer_fingerprint: peer, name, fetched_at: now };
    await this.database.db
      .insertInto('remote_user_keys')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['peer_fingerprint', 'name']).doUpdateSet({
          username: key.username,
          nickname: key.nickname,
          pubkey: key.pubkey,
          fingerprint: key.fingerprint,
          fetched_at: now,
        }),
      )
      .execute();
    // The bound: past KEY_CACHE_MAX rows, the oldest fetched go.
    const count = await this.database.db
      .selectFrom('remote_user_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const excess = Number(count.n) - this.maxEntries;
    if (excess > 0) {
      const oldest = await this.database.db
        .selectFrom('remote_user_keys')
        .select(['peer_fingerprint', 'name'])
        .orderBy('fetched_at')
        .limit(excess)
        .execute();
      for (const o of oldest) await this.forget(o.peer_fingerprint, o.name);
    }
  }
}

/** What the receiving route answers for an object it took or had already. */
export interface Received {
  id: string;
  status: 'accepted' | 'duplicate';
}

/**
 * Stores a private message a peer delivered, after every check: the sender's signature over the
 * ciphertext, a sender who is not a local user and whose key is not banned here, a recipient who
 * lives here and an envelope for them. A recipient who ignores the sender gets it already deleted,
 * as a local message. Nothing is stored on a refusal. A stored letter the recipient does not
 * ignore is announced on their `mail` channel (every process), for their open tabs.
 */
export async function receivePrivateMessage(
  database: AxonDatabase,
  realtime: Realtime,
  peer: PeerRow,
  object: PrivateMessageObject,
): Promise<Received> {
  let sender: { pem: string; fingerprint: string };
  try {
    sender = parsePublicKey(object.from.pubkey);
  } catch (error) {
    if (error instanceof PublicKeyFormatError) {
      throw fieldError('body.from.pubkey', `not a public key: ${error.message}`);
    }
    throw error;
  }
  if (!verifyObject(object, object.from.pubkey)) {
    throw new AppError(
      400,
      'PM_SIGNATURE_INVALID',
      "the private message's signature does not verify under its sender's key",
    );
  }
  const db = database.db;
  const existing = await db
    .selectFrom('private_messages')
    .select('id')
    .where('id', '=', object.id)
    .executeTakeFirst();
  if (existing !== undefined) return { id: object.id, status: 'duplicate' };
  const local = await db
    .selectFrom('users')
    .select('id')
    .where('fingerprint', '=', sender.fingerprint)
    .executeTakeFirst();
  if (local !== undefined) {
    throw new AppError(403, 'FORBIDDEN', 'the sender is a user of this instance, not of yours');
  }
  if (await isPubkeyBanned(db, sender.fingerprint)) {
    throw new AppError(403, 'PUBKEY_BANNED', "the sender's key is banned on this instance");
  }
  const recipient = await db
    .selectFrom('users')
    .select('id')
    .where('fingerprint', '=', object.to)
    .executeTakeFirst();
  if (recipient === undefined) {
    throw new AppError(
      404,
      'PM_RECIPIENT_NOT_HERE',
      'no user of this instance has that key: the recipient does not live here (or changed keys)',
    );
  }
  if (object.envelopes[object.to] === undefined) {
    throw fieldError('body.envelopes', 'there is no envelope for the recipient');
  }
  const mail = { kind: 'mail', userId: recipient.id } as const;
  const storedAt = Date.now();
  const { inserted, shown } = await db.transaction().execute(async (trx) => {
    const ignored = await ignores(trx, recipient.id, sender.fingerprint);
    await rememberPubkey(trx, sender.fingerprint, sender.pem);
    const result = await trx
      .insertInto('private_messages')
      .values({
        id: object.id,
        sender_id: null,
        recipient_id: recipient.id,
        sender_fingerprint: sender.fingerprint,
        sender_nickname: object.from.nickname,
        recipient_fingerprint: object.to,
        ciphertext: object.ciphertext,
        envelopes: JSON.stringify(object.envelopes),
        signature: object.signature,
        created_at: Date.parse(object.created_at),
        recipient_deleted: ignored,
        peer_fingerprint: peer.fingerprint,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    const stored = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    if (stored && !ignored) await realtime.notifyInTransaction(trx, mail, storedAt);
    return { inserted: stored, shown: stored && !ignored };
  });
  if (shown) realtime.publish(mail, storedAt);
  return { id: object.id, status: inserted ? 'accepted' : 'duplicate' };
}

/**
 * Whether the user ignores the key. A letter to someone who ignores its sender is taken (the
 * sender is not told, so ignoring cannot be probed) but lands already deleted from their inbox.
 */
export async function ignores(
  db: Kysely<DatabaseSchema>,
  userId: string,
  fingerprint: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('ignored_pubkeys')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('fingerprint', '=', fingerprint)
    .executeTakeFirst();
  return row !== undefined;
}
