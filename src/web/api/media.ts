// URLs for <img>/<video>, which cannot send headers: a signed-in reader's URL carries a media
// token for that one content hash (never the session token), asked for once per hash and session
// and kept in memory until shortly before it expires.
import { useEffect, useState } from 'react';
import { withQuery } from './client';
import { issueMediaToken } from './content';
import { sessionStore } from './session';

/** A token this close to its end is asked for again, so an element never starts with a dead one. */
const RENEW_BEFORE_MS = 60_000;
/** At most this many tokens are kept (about 600 bytes each); the oldest goes first. */
const MAX_TOKENS = 256;

interface Issued {
  url: string;
  expiresAt: number;
}

const streamPath = (hash: string) => `/api/content/stream/${hash}/`;
const tokens = new Map<string, Promise<Issued>>();

async function issue(hash: string): Promise<Issued> {
  const data = await issueMediaToken(hash);
  return {
    url: withQuery(streamPath(hash), { media_token: data.media_token }),
    expiresAt: Date.parse(data.expires_at),
  };
}

/** The URL to put in an element's src for this content, for the reader signed in now. */
export async function mediaUrl(hash: string): Promise<string> {
  const session = sessionStore.get();
  if (session === null) return streamPath(hash); // a visitor reads public content without a token
  const key = `${session.token} ${hash}`;
  let pending = tokens.get(key);
  const fresh = pending === undefined ? undefined : await pending.catch(() => undefined);
  if (fresh === undefined || fresh.expiresAt - RENEW_BEFORE_MS <= Date.now()) {
    tokens.delete(key);
    pending = issue(hash);
    tokens.set(key, pending);
    while (tokens.size > MAX_TOKENS) tokens.delete(tokens.keys().next().value as string);
    pending.catch(() => tokens.delete(key));
    return (await pending).url;
  }
  return fresh.url;
}

/** mediaUrl for a component: undefined until the token is there (or if it was refused). */
export function useMediaUrl(hash: string): string | undefined {
  const [url, setUrl] = useState<string>();
  const token = sessionStore.get()?.token;
  useEffect(() => {
    let live = true;
    setUrl(undefined);
    mediaUrl(hash).then(
      (next) => live && setUrl(next),
      () => undefined, // the element shows its alt text; the download button reports errors
    );
    return () => {
      live = false;
    };
  }, [hash, token]);
  return url;
}
