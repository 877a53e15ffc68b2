// Notifications and the live feed. While signed in, one long poll waits on the account's own
// channel: the moment a notification or a letter arrives, a read mark is made in another tab or
// the account's roles change, it answers, and the counts, lists and the signed-in profile follow.
// A ban answers it with ACCOUNT_BANNED (why and until when), which ends the session (client.ts).
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import { api, ApiError } from './client';
import { queryKeys } from './keys';
import { usePages } from './pages';
import { sessionStore, useSession } from './session';
import type { LiveState, Notification, NotificationPage, Profile, ThreadWatch } from './types';

/** How long one live poll waits on the server (its limit is 30 s). */
const LIVE_WAIT_SECONDS = 25;
/** After a failed poll (the server unreachable), the next waits this long, doubling up to the most. */
const RETRY_FIRST_MS = 1000;
const RETRY_MOST_MS = 30_000;

export const fetchNotifications = (cursor: string | undefined) =>
  api<NotificationPage>('/api/notifications/', { query: { cursor } });

export const markNotificationRead = (id: string) =>
  api<Notification>(`/api/notifications/${id}/read/`, { method: 'POST' });

export const markAllNotificationsRead = () =>
  api<{ marked: number }>('/api/notifications/read_all/', { method: 'POST' });

export const fetchWatch = (messageId: string) =>
  api<ThreadWatch>(`/api/notifications/watches/${messageId}/`);

export const setWatch = (messageId: string, watching: boolean) =>
  api<ThreadWatch>(`/api/notifications/watches/${messageId}/`, {
    method: 'PUT',
    body: { watching },
  });

export function useNotifications() {
  return usePages(queryKeys.notifications, fetchNotifications);
}

export function useWatch(messageId: string) {
  return useQuery({ queryKey: queryKeys.watch(messageId), queryFn: () => fetchWatch(messageId) });
}

// The latest live state, for the header's counts.
let liveState: LiveState | null = null;
const liveListeners = new Set<() => void>();

function setLiveState(next: LiveState | null): void {
  liveState = next;
  for (const listener of liveListeners) listener();
}

/** The live state (null until the first answer, and while signed out). */
export function useLiveState(): LiveState | null {
  return useSyncExternalStore(
    (listener) => {
      liveListeners.add(listener);
      return () => liveListeners.delete(listener);
    },
    () => liveState,
  );
}

/** True when the roles or rights the client shows differ from the account's. */
function rolesChanged(shown: Profile, now: Profile): boolean {
  return (
    shown.is_moderator !== now.is_moderator ||
    shown.is_sysop !== now.is_sysop ||
    shown.can_post !== now.can_post ||
    shown.can_upload !== now.can_upload
  );
}

/** What a new answer changes on screen: the profile, and the lists whose counts moved. */
function apply(queryClient: QueryClient, state: LiveState, before: LiveState | null): void {
  const shown = sessionStore.get()?.user;
  if (shown !== undefined && rolesChanged(shown, state.user)) sessionStore.updateUser(state.user);
  if (before !== null && before.unread_private_messages !== state.unread_private_messages)
    void queryClient.invalidateQueries({ queryKey: queryKeys.privateMessages });
  if (before !== null && before.version !== state.version)
    void queryClient.invalidateQueries({ queryKey: queryKeys.notifications });
  setLiveState(state);
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Keeps the live feed open while a session exists (mounted once, by the app's frame). */
export function useLiveFeed(): void {
  const token = useSession()?.token;
  const queryClient = useQueryClient();
  useEffect(() => {
    if (token === undefined) {
      setLiveState(null);
      return;
    }
    const controller = new AbortController();
    const { signal } = controller;
    void (async () => {
      let state: LiveState | null = null;
      let retryMs = RETRY_FIRST_MS;
      while (!signal.aborted) {
        try {
          const next: LiveState = await api<LiveState>('/api/notifications/live/', {
            query: state === null ? {} : { after: state.version, wait: LIVE_WAIT_SECONDS },
            signal,
          });
          apply(queryClient, next, state);
          state = next;
          retryMs = RETRY_FIRST_MS;
        } catch (error) {
          if (signal.aborted) return;
          // The session ended (a ban, a logout elsewhere): client.ts signed out; nothing to wait on.
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
          await pause(retryMs, signal);
          retryMs = Math.min(retryMs * 2, RETRY_MOST_MS);
        }
      }
    })();
    return () => controller.abort();
  }, [token, queryClient]);
}
