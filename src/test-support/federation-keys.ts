// A peer's key for federation tests: its row in `peers` and the headers it signs requests with.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AxonDatabase } from '../server/db/database.js';
import { fingerprintOf } from '../crypto/keys.js';
import { signRequest, type SignedRequestHeaders } from '../server/modules/federation/signing.js';

export interface TestPeerKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM, as peers.pubkey holds it. */
  pubkey: string;
  pubkeyDer: Buffer;
  fingerprint: string;
}

/** A fresh RSA key (2048 bits: quicker than the instances' 3072, and signatures are the same). */
export function testPeerKey(): TestPeerKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    pubkeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    fingerprint: fingerprintOf(publicKey),
  };
}

/** Inserts the key as a peer of the instance whose database this is. */
export async function insertPeer(
  database: AxonDatabase,
  key: Pick<TestPeerKey, 'pubkey' | 'fingerprint'>,
  row: {
    base_url: string;
    trusted: boolean;
    transport?: 'direct' | 'proxy' | 'socks5';
    proxy_url?: string | null;
  },
): Promise<void> {
  const now = Date.now();
  await database.db
    .insertInto('peers')
    .values({
      fingerprint: key.fingerprint,
      pubkey: key.pubkey,
      nickname: `peer-${key.fingerprint.slice(0, 6)}`,
      base_url: row.base_url,
      trusted: row.trusted,
      transport: row.transport ?? 'direct',
      proxy_url: row.proxy_url ?? null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** Signed headers for a request by this key. */
export function signedHeaders(
  key: TestPeerKey,
  request: { method: string; pathAndQuery: string; host: string; body?: Uint8Array },
  now: number = Date.now(),
): SignedRequestHeaders {
  return signRequest(key, { ...request, body: request.body ?? Buffer.alloc(0) }, now);
}
