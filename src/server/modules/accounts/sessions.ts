// Sessions: a JWT (HS256) carrying a random session secret. The database keeps only the secret's
// SHA-256 and the user's private key re-sealed under a key derived from the secret, so a stolen
// database row can neither act as the session nor unseal the key; deleting the row revokes it.
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { verifyHs256 } from '../../../crypto/jwt.js';
import { deriveKey } from '../../../crypto/kdf.js';
import { privateKeyFromDer } from '../../../crypto/keys.js';
import type { Insertable, Kysely } from 'kysely';
import type { DatabaseSchema, SessionsTable } from '../../db/schema.js';
import { unauthorized } from '../../http/errors.js';
import { ByteCache } from '../../services/byte-cache.js';
import { openPrivateKey, sealPrivateKey } from './key-vault.js';
import { USER_COLUMNS, toUser, type User } from './user.js';

export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface IssuedSession {
  token: string;
  expiresAt: number;
}

export interface MintedSession extends IssuedSession {
  row: Insertable<SessionsTable>;
}

export interface Session {
  user: User;
  idHash: string;
  expiresAt: number;
  /** Unseals the user's private key for the life of this request. */
  privateKeyDer(): Buffer;
  /**
   * The user's private key, ready to sign or decrypt: opened once and kept in memory while the
   * session is in use (see OpenKeys), since opening an RSA key and its first use cost more than a
   * signature.
   */
  privateKey(): KeyObject;
}

/** Sessions' opened keys kept this long after their last use, and at most this many. */
const OPEN_KEY_IDLE_MS = 10 * 60 * 1000;
const MAX_OPEN_KEYS = 1000;
/** What an opened RSA-3072 key holds in memory, roughly (its native key material and object). */
const OPEN_KEY_BYTES = 4096;

/**
 * Opened private keys by session. Only reachable through `resolve`, after the session's secret and
 * its database row have been checked on that request, so a revoked session's key is never used
 * again; it leaves memory when idle or pushed out. Keyed with the sealed blob too, so a re-sealed
 * key is opened anew.
 */
class OpenKeys {
  private readonly keys = new ByteCache<{ sealed: string; key: KeyObject }>({
    maxBytes: MAX_OPEN_KEYS * OPEN_KEY_BYTES,
    ttlMs: OPEN_KEY_IDLE_MS,
    sizeOf: (entry) => entry.sealed.length * 2 + OPEN_KEY_BYTES,
  });

  get(idHash: string, sealed: string, open: () => KeyObject, now = Date.now()): KeyObject {
    const found = this.keys.get(idHash, now);
    const key = found !== undefined && found.sealed === sealed ? found.key : open();
    // Set again on every use: its idle time starts over, and it is the last to be pushed out.
    this.keys.set(idHash, { sealed, key }, now);
    return key;
  }
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
const sessionKek = (secret: string) =>
  deriveKey(Buffer.from(secret, 'base64url'), 'axon-session-kek-v1');

export class SessionTokens {
  private readonly openKeys = new OpenKeys();

  constructor(private readonly tokenKey: Buffer) {}

  /**
   * Makes a session: signs its token and seals the key, but writes nothing. Signing runs on the
   * thread pool, so callers mint before they open a transaction and `store` inside it.
   */
  async mint(userId: string, privateKeyDer: Buffer): Promise<MintedSession> {
    const secret = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + SESSION_LIFETIME_MS;
    const token = await new SignJWT({ sid: secret })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.tokenKey);
    return {
      token,
      expiresAt,
      row: {
        id_hash: hashSecret(secret),
        user_id: userId,
        private_key_by_session: sealPrivateKey(
          sessionKek(secret),
          userId,
          'session',
          privateKeyDer,
        ),
        created_at: now,
        expires_at: expiresAt,
      },
    };
  }

  async store(db: Kysely<DatabaseSchema>, minted: MintedSession): Promise<IssuedSession> {
    await db.insertInto('sessions').values(minted.row).execute();
    return { token: minted.token, expiresAt: minted.expiresAt };
  }

  /** Mints and stores a session in one step, for callers outside a transaction. */
  async issue(
    db: Kysely<DatabaseSchema>,
    userId: string,
    privateKeyDer: Buffer,
  ): Promise<IssuedSession> {
    return this.store(db, await this.mint(userId, privateKeyDer));
  }

  /** Resolves a bearer token to its live session; throws a 401 AppError otherwise. */
  async resolve(db: Kysely<DatabaseSchema>, token: string): Promise<Session> {
    // Checked synchronously (see crypto/jwt.ts): this runs on every authenticated request.
    const check = verifyHs256(token, this.tokenKey);
    if (!check.valid) {
      if (check.reason === 'expired')
        throw unauthorized('the session has expired', 'SESSION_EXPIRED');
      throw unauthorized('the token is not valid', 'INVALID_TOKEN');
    }
    const { sid: secret, sub: subject } = check.payload;
    if (typeof secret !== 'string') throw unauthorized('the token is not valid', 'INVALID_TOKEN');
    const idHash = hashSecret(secret);
    const row = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(USER_COLUMNS.map((c) => `users.${c}` as const))
      .select(['sessions.expires_at', 'sessions.private_key_by_session'])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (row === undefined || row.id !== subject || row.expires_at <= Date.now()) {
      throw unauthorized('the session has ended; log in again', 'SESSION_EXPIRED');
    }
    const user = toUser(row);
    const sealed = row.private_key_by_session;
    const privateKeyDer = () => openPrivateKey(sessionKek(secret), user.id, 'session', sealed);
    return {
      user,
      idHash,
      expiresAt: row.expires_at,
      privateKeyDer,
      privateKey: () => this.openKeys.get(idHash, sealed, () => privateKeyFromDer(privateKeyDer())),
    };
  }
}

export async function revokeSession(db: Kysely<DatabaseSchema>, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function revokeAllSessions(db: Kysely<DatabaseSchema>, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

export async function deleteExpiredSessions(
  db: Kysely<DatabaseSchema>,
  now = Date.now(),
): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
