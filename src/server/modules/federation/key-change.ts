// An instance's key change, told to its peers through the signed channel (docs/federation.md,
// "Key-change notices"): after `axon restore --new-identity` the restored instance owes each peer a
// notice signed by its OLD key (the peer trusts it: the change is the owner's) and its NEW one (the
// sender holds it). The notice travels in a request signed by the new key. A peer that checks it
// holds the new key as pending, exactly as `peer refresh` would: nothing is trusted until its
// sysop accepts the new fingerprint (`axon peer accept-key`).
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { parsePublicKey, PublicKeyFormatError } from '../../../crypto/keys.js';
import { signObject, verifyObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import type { FederationClient } from './client.js';

export const KEY_CHANGE_PATH = '/api/federation/key_change/';
/** Two PEM keys of up to 8192 bits, two signatures and the rest fit well within it. */
export const KEY_CHANGE_BODY_LIMIT = 16 * 1024;

const Pem = z.string().min(1).max(2000);
const Signature = z.string().regex(/^[A-Za-z0-9+/]{1,1400}={0,2}$/);

export const KeyChangeNotice = z.strictObject({
  type: z.literal('key-change'),
  previous_pubkey: Pem,
  pubkey: Pem,
  created_at: z.iso.datetime(),
  signatures: z.strictObject({ previous: Signature, new: Signature }),
});
export type KeyChangeNotice = z.output<typeof KeyChangeNotice>;

/** The notice, signed by both keys over the canonical JSON of it without `signatures`. */
export function makeKeyChangeNotice(
  previous: { pubkey: string; privateKey: KeyObject },
  next: { pubkey: string; privateKey: KeyObject },
): KeyChangeNotice {
  const body = {
    type: 'key-change' as const,
    previous_pubkey: previous.pubkey,
    pubkey: next.pubkey,
    created_at: new Date().toISOString(),
  };
  return {
    ...body,
    signatures: {
      previous: signObject(body, previous.privateKey).signature,
      new: signObject(body, next.privateKey).signature,
    },
  };
}

/** What a checked notice says: the key that was, and the one that is now. */
export interface KeyChange {
  previousFingerprint: string;
  fingerprint: string;
  pubkey: string;
}

/** Checks both signatures; the reason in words when one fails. */
export function checkKeyChangeNotice(
  notice: KeyChangeNotice,
): { ok: true; change: KeyChange } | { ok: false; reason: string } {
  let previous: { pem: string; fingerprint: string };
  let next: { pem: string; fingerprint: string };
  try {
    previous = parsePublicKey(notice.previous_pubkey);
    next = parsePublicKey(notice.pubkey);
  } catch (error) {
    if (error instanceof PublicKeyFormatError) return { ok: false, reason: error.message };
    throw error;
  }
  if (previous.fingerprint === next.fingerprint) {
    return { ok: false, reason: 'the new key is the previous one' };
  }
  const { signatures, ...body } = notice;
  if (!verifyObject({ ...body, signature: signatures.previous }, previous.pem)) {
    return { ok: false, reason: 'the previous key did not sign this notice' };
  }
  if (!verifyObject({ ...body, signature: signatures.new }, next.pem)) {
    return { ok: false, reason: 'the new key did not sign this notice' };
  }
  return {
    ok: true,
    change: {
      previousFingerprint: previous.fingerprint,
      fingerprint: next.fingerprint,
      pubkey: next.pem,
    },
  };
}

/** One notice to send to every peer in the registry (run by the restore, after its database). */
export async function queueKeyChangeNotices(
  db: Kysely<DatabaseSchema>,
  notice: KeyChangeNotice,
): Promise<number> {
  const peers = await db.selectFrom('peers').select('fingerprint').execute();
  const now = Date.now();
  for (const peer of peers) {
    const row = { notice: JSON.stringify(notice), created_at: now, sent_at: null, attempts: 0 };
    await db
      .insertInto('key_change_notices')
      .values({ peer_fingerprint: peer.fingerprint, ...row, last_error: null })
      .onConflict((oc) => oc.column('peer_fingerprint').doUpdateSet({ ...row, last_error: null }))
      .execute();
  }
  return peers.length;
}

/** Sends the notices not yet answered; each peer's signed 200 marks its notice sent. */
export async function sendKeyChangeNotices(
  database: AxonDatabase,
  client: FederationClient,
): Promise<void> {
  const db = database.db;
  const due = await db
    .selectFrom('key_change_notices')
    .innerJoin('peers', 'peers.fingerprint', 'key_change_notices.peer_fingerprint')
    .select([
      'key_change_notices.peer_fingerprint',
      'key_change_notices.notice',
      'peers.base_url',
      'peers.pubkey',
      'peers.transport',
      'peers.proxy_url',
    ])
    .where('key_change_notices.sent_at', 'is', null)
    .limit(100)
    .execute();
  for (const row of due) {
    let error: string | null = null;
    try {
      const answer = await client.request(row, {
        method: 'POST',
        path: KEY_CHANGE_PATH,
        body: JSON.parse(row.notice) as unknown,
        maxBytes: 64 * 1024,
      });
      if (answer.status !== 200) error = `answered ${answer.status}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    await db
      .updateTable('key_change_notices')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: error,
        ...(error === null ? { sent_at: Date.now() } : {}),
      }))
      .where('peer_fingerprint', '=', row.peer_fingerprint)
      .execute();
  }
}
