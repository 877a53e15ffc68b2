// The signed-in session: the token and the profile, kept in localStorage so a reload or a second
// tab stays signed in. Components follow it through useSession(); the API client reads the token.
import { useSyncExternalStore } from 'react';
import type { Profile } from './types';

export interface Session {
  token: string;
  expiresAt: string;
  user: Profile;
}

const KEY = 'axon.session';
const listeners = new Set<() => void>();
let current: Session | null = load();
// Why the last session ended, when the server ended it: the login screen says so.
let endNotice: string | null = null;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    const session = JSON.parse(raw) as Session;
    return Date.parse(session.expiresAt) > Date.now() ? session : null;
  } catch {
    return null;
  }
}

function publish(next: Session | null): void {
  current = next;
  if (next === null) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, JSON.stringify(next));
  for (const listener of listeners) listener();
}

export const sessionStore = {
  get: (): Session | null => current,
  signIn: (token: string, expiresAt: string, user: Profile) => publish({ token, expiresAt, user }),
  updateUser: (user: Profile) => {
    if (current !== null) publish({ ...current, user });
  },
  updateToken: (token: string, expiresAt: string) => {
    if (current !== null) publish({ ...current, token, expiresAt });
  },
  signOut: () => publish(null),
  /** The server ended the session (expired, banned, logged out elsewhere). */
  ended: (notice: string) => {
    endNotice = notice;
    publish(null);
  },
  endNotice: (): string | null => endNotice,
  subscribe: (listener: () => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// Another tab signing in or out.
window.addEventListener('storage', (event) => {
  if (event.key === KEY) {
    current = load();
    for (const listener of listeners) listener();
  }
});

export function useSession(): Session | null {
  return useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
}
