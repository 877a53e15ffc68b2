// Stream tokens: what an EventSource carries in its URL instead of the session token. Each names
// one board's stream and one session and lives five minutes: long enough to open (or reopen) the
// stream, which then lives as long as the session and the stream's own lifetime allow.
import { ScopedTokens } from '../accounts/scoped-tokens.js';

export const STREAM_TOKEN_LIFETIME_MS = 5 * 60 * 1000;

export const streamTokens = (tokenKey: Buffer) =>
  new ScopedTokens(tokenKey, 'axon-stream', 'stream token', STREAM_TOKEN_LIFETIME_MS);
