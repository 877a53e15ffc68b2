// Media tokens: what <img>/<video> carry in their URL instead of the session token. Each names one
// content hash and one session, lives ten minutes, and is refused as soon as its session ends.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../db/schema.js';
import { ScopedTokens, type IssuedScopedToken } from '../accounts/scoped-tokens.js';
import type { Session } from '../accounts/sessions.js';
import type { User } from '../accounts/user.js';

export const MEDIA_TOKEN_LIFETIME_MS = 10 * 60 * 1000;

export type IssuedMediaToken = IssuedScopedToken;

export class MediaTokens {
  private readonly tokens: ScopedTokens;

  constructor(tokenKey: Buffer) {
    this.tokens = new ScopedTokens(tokenKey, 'axon-media', 'media token', MEDIA_TOKEN_LIFETIME_MS);
  }

  /** A token for `contentHash` alone, tied to `session`; callers check the read rule first. */
  issue(session: Session, contentHash: string, now = Date.now()): Promise<IssuedMediaToken> {
    return this.tokens.issue(session, contentHash, now);
  }

  /** The user a media token speaks for when reading `contentHash` (401/403 as ScopedTokens says). */
  async resolve(db: Kysely<DatabaseSchema>, token: string, contentHash: string): Promise<User> {
    return (await this.tokens.resolve(db, token, contentHash)).user;
  }
}
