// Media tokens: what <img>/<video> carry in their URL instead of the session token. Each is
// signed with the instance's token key, names one content hash and one session, lives ten
// minutes, and is refused as soon as its session ends (the session's row is checked on each use).
import { SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import { verifyHs256 } from '../../../crypto/jwt.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { forbidden, unauthorized } from '../../http/errors.js';
import { isBanActive } from '../accounts/permissions.js';
import type { Session } from '../accounts/sessions.js';
import { USER_COLUMNS, toUser, type User } from '../accounts/user.js';

export const MEDIA_TOKEN_LIFETIME_MS = 10 * 60 * 1000;
/** Marks the token's kind: a media token is never taken for a session (it has no `sid`). */
const MEDIA_TOKEN_TYPE = 'axon-media';

export interface IssuedMediaToken {
  token: string;
  expiresAt: number;
}

export class MediaTokens {
  constructor(private readonly tokenKey: Buffer) {}

  /** A token for `contentHash` alone, tied to `session`; callers check the read rule first. */
  async issue(session: Session, contentHash: string, now = Date.now()): Promise<IssuedMediaToken> {
    // Never past the session's own end.
    const expiresAt = Math.min(now + MEDIA_TOKEN_LIFETIME_MS, session.expiresAt);
    const token = await new SignJWT({ typ: MEDIA_TOKEN_TYPE, sh: session.idHash, h: contentHash })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(session.user.id)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.tokenKey);
    return { token, expiresAt };
  }

  /**
   * The user a media token speaks for when reading `contentHash`: a 401 for a token that is not a
   * live media token of a live session, a 403 for one made for another content or a banned account.
   */
  async resolve(db: Kysely<DatabaseSchema>, token: string, contentHash: string): Promise<User> {
    const check = verifyHs256(token, this.tokenKey);
    if (!check.valid) {
      if (check.reason === 'expired')
        throw unauthorized('the media token has expired; ask for a new one', 'INVALID_TOKEN');
      throw unauthorized('the media token is not valid', 'INVALID_TOKEN');
    }
    const { typ, sh: idHash, h: hash, sub: subject } = check.payload;
    if (typ !== MEDIA_TOKEN_TYPE || typeof idHash !== 'string' || typeof subject !== 'string')
      throw unauthorized('the media token is not valid', 'INVALID_TOKEN');
    if (hash !== contentHash) throw forbidden('this media token is for another content');
    const row = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(USER_COLUMNS.map((c) => `users.${c}` as const))
      .select('sessions.expires_at')
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (row === undefined || row.id !== subject || row.expires_at <= Date.now())
      throw unauthorized('the session has ended; log in again', 'SESSION_EXPIRED');
    const user = toUser(row);
    if (isBanActive(user)) throw forbidden('this account is banned', 'ACCOUNT_BANNED');
    return user;
  }
}
