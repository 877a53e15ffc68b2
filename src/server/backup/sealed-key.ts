// The instance private key in a backup: sealed (AES-256-GCM) under a key Argon2id derives from the
// sysop's passphrase, so the backup never depends on AXON_SECRET nor carries it.
import { randomBytes } from 'node:crypto';
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import { z } from 'zod';
import { IntegrityError, open, seal } from '../../crypto/aead.js';

// @node-rs/argon2's Algorithm is an ambient const enum; 2 is its Argon2id member.
const ARGON2ID = 2 as Algorithm;
const AAD = Buffer.from('axon-backup-instance-key-v1');
/** Stronger than a login's: a backup is attacked offline, and it is opened rarely. */
const PARAMS = { m: 65536, t: 3, p: 1 } as const;
export const MIN_PASSPHRASE_LENGTH = 12;

const sealedKeySchema = z.strictObject({
  kdf: z.literal('argon2id'),
  m: z.int().min(8).max(4_194_304),
  t: z.int().min(1).max(64),
  p: z.int().min(1).max(16),
  salt: z.base64(),
  sealed: z.base64(),
});

export class WrongPassphraseError extends Error {
  constructor() {
    super('the passphrase does not open the instance key in this backup');
    this.name = 'WrongPassphraseError';
  }
}

async function keyFrom(passphrase: string, m: number, t: number, p: number, salt: Buffer) {
  return hashRaw(passphrase, {
    algorithm: ARGON2ID,
    memoryCost: m,
    timeCost: t,
    parallelism: p,
    outputLen: 32,
    salt,
  });
}

/** The file's text: JSON with the Argon2id parameters, salt and the sealed PKCS#8 DER. */
export async function sealInstanceKey(privateKeyDer: Buffer, passphrase: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await keyFrom(passphrase, PARAMS.m, PARAMS.t, PARAMS.p, salt);
  return JSON.stringify({
    kdf: 'argon2id',
    ...PARAMS,
    salt: salt.toString('base64'),
    sealed: seal(key, privateKeyDer, AAD).toString('base64'),
  });
}

/** The PKCS#8 DER; WrongPassphraseError when the passphrase (or the file) is not the right one. */
export async function openInstanceKey(text: string, passphrase: string): Promise<Buffer> {
  let parsed: z.infer<typeof sealedKeySchema>;
  try {
    parsed = sealedKeySchema.parse(JSON.parse(text));
  } catch {
    throw new WrongPassphraseError();
  }
  const key = await keyFrom(
    passphrase,
    parsed.m,
    parsed.t,
    parsed.p,
    Buffer.from(parsed.salt, 'base64'),
  );
  try {
    return open(key, Buffer.from(parsed.sealed, 'base64'), AAD);
  } catch (error) {
    if (error instanceof IntegrityError) throw new WrongPassphraseError();
    throw error;
  }
}
