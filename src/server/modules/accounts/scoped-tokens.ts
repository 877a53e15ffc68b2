// Short-lived tokens that stand in for the session where a browser cannot send a header (an
// <img> URL, an EventSource): each is signed with the instance's token key, names one kind, one
// scope (a content hash, a board) and one session, and is refused once that session ends.
import { SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import { verifyHs256 } from '../../../crypto/jwt.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { forbidden, unauthorized } from '../../http/errors.js';
import { isBanActive } from './permissions.js';
import type { Session } from './sessions.js';
import { USER_COLUMNS, toUser, type User } from './user.js';

export interface IssuedScopedToken {
  token: string;
  expiresAt: number;
}

/** What a scoped token speaks for: the user and the session it was made from. */
export interface ScopedSession {
  user: User;
  idHash: string;
}

export class ScopedTokens {
  constructor(
    private readonly tokenKey: Buffer,
    /** Marks the kind (`axon-media`, `axon-stream`): no token passes for another kind or a session. */
    private readonly kind: string,
    /** The token's name in error messages ("media token"). */
    private readonly noun: string,
    private readonly lifetimeMs: number,
  ) {}

  /** A token for `scope` alone, tied to `session`; callers check the read rule first. */
  async issue(session: Session, scope: string, now = Date.now()): Promise<IssuedScopedToken> {
    // Never past the session's own end.
    const expiresAt = Math.min(now + this.lifetimeMs, session.expiresAt);
    const token = await new SignJWT({ typ: this.kind, sh: session.idHash, h: scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(session.user.id)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.tokenKey);
    return { token, expiresAt };
  }

  /**
   * The session a token speaks for when used on `scope`: a 401 for a token that is not a live one
   * of this kind from a live session, a 403 for one made for another scope or a banned account.
   * `scope` may be given lazily: it is only worked out for a token that verifies.
   */
  async resolve(
    db: Kysely<DatabaseSchema>,
    token: string,
    scope: string | (() => Promise<string>),
  ): Promise<ScopedSession> {
    const check = verifyHs256(token, this.tokenKey);
    if (!check.valid) {
      if (check.reason === 'expired')
        throw unauthorized(`the ${this.noun} has expired; ask for a new one`, 'INVALID_TOKEN');
      throw unauthorized(`the ${this.noun} is not valid`, 'INVALID_TOKEN');
    }
    const { typ, sh: idHash, h: tokenScope, sub: subject } = check.payload;
    if (typ !== this.kind || typeof idHash !== 'string' || typeof subject !== 'string')
      throw unauthorized(`the ${this.noun} is not valid`, 'INVALID_TOKEN');
    const wanted = typeof scope === 'string' ? scope : await scope();
    if (tokenScope !== wanted) throw forbidden(`this ${this.noun} is for something else`);
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
    return { user, idHash };
  }
}
