// The instance's own RSA-3072 identity: made on first start, private key sealed at rest.
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { IntegrityError, open, seal } from '../../../crypto/aead.js';
import { generateRsaKeyPair, privateKeyFromDer } from '../../../crypto/keys.js';
import type { AxonDatabase } from '../../db/database.js';

export interface InstanceIdentity {
  pubkey: string;
  fingerprint: string;
  nickname: string;
  privateKey: KeyObject;
  createdAt: number;
}

const AAD = Buffer.from('axon-instance-private-key-v1');

/** The instance private key (PKCS#8 DER) sealed at rest, as instance_identity keeps it (base64). */
export function sealInstanceKey(sealKey: Buffer, privateKeyDer: Buffer): string {
  return seal(sealKey, privateKeyDer, AAD).toString('base64');
}

export class IdentitySecretMismatch extends Error {
  constructor() {
    super(
      'the instance private key cannot be decrypted with this secret: AXON_SECRET (or data/secret.key) ' +
        'differs from the one used when the instance was created',
    );
    this.name = 'IdentitySecretMismatch';
  }
}

/** Loads the instance identity, creating it on first start. Safe when several processes start at once. */
export async function ensureInstanceIdentity(
  database: AxonDatabase,
  sealKey: Buffer,
): Promise<InstanceIdentity> {
  const existing = await loadIdentity(database, sealKey);
  if (existing !== undefined) return existing;
  const pair = await generateRsaKeyPair();
  await database.db
    .insertInto('instance_identity')
    .values({
      id: 1,
      pubkey: pair.publicKey,
      fingerprint: pair.fingerprint,
      private_key_sealed: sealInstanceKey(sealKey, pair.privateKeyDer),
      nickname: `axon-${randomBytes(3).toString('hex')}`,
      created_at: Date.now(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const created = await loadIdentity(database, sealKey);
  if (created === undefined) throw new Error('instance identity vanished after creation');
  return created;
}

export async function loadIdentity(
  database: AxonDatabase,
  sealKey: Buffer,
): Promise<InstanceIdentity | undefined> {
  const row = await database.db
    .selectFrom('instance_identity')
    .selectAll()
    .where('id', '=', 1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  let der: Buffer;
  try {
    der = open(sealKey, Buffer.from(row.private_key_sealed, 'base64'), AAD);
  } catch (error) {
    if (error instanceof IntegrityError) throw new IdentitySecretMismatch();
    throw error;
  }
  return {
    pubkey: row.pubkey,
    fingerprint: row.fingerprint,
    nickname: row.nickname,
    privateKey: privateKeyFromDer(der),
    createdAt: row.created_at,
  };
}

/** Groups a fingerprint in fours so people can compare it aloud. */
export function formatFingerprint(fingerprint: string): string {
  return fingerprint.match(/.{1,4}/g)?.join(' ') ?? fingerprint;
}
