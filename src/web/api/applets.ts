// Applets: small programs sysops install, each with its own event bus (read like AxonChat) and
// rooms whose shared state is changed by compare-and-set on its version.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type {
  Applet,
  AppletEventPost,
  AppletInput,
  AppletList,
  ChatEvent,
  ChatRead,
  EventBatch,
  RoomState,
  RoomStateWrite,
} from './types';

const roomPath = (appletId: string, roomId: string) =>
  `/api/applets/${appletId}/rooms/${encodeURIComponent(roomId)}/shared_state/`;

export const fetchApplets = () => api<AppletList>('/api/applets/');

export const fetchApplet = (appletId: string) => api<Applet>(`/api/applets/${appletId}/`);

export const createApplet = (applet: AppletInput) =>
  api<Applet>('/api/applets/', { method: 'POST', body: applet });

export const readAppletEvents = (appletId: string, query: ChatRead, signal?: AbortSignal) =>
  api<EventBatch>(`/api/applets/${appletId}/read_events/`, { query, signal });

export const postAppletEvent = (appletId: string, event: AppletEventPost) =>
  api<ChatEvent>(`/api/applets/${appletId}/post_event/`, { method: 'POST', body: event });

/** A room's state; with `afterVersion`, waits up to `wait` seconds for a newer one. */
export const readRoomState = (
  appletId: string,
  roomId: string,
  newer?: { afterVersion: number; wait: number },
  signal?: AbortSignal,
) =>
  api<RoomState>(roomPath(appletId, roomId), {
    query: newer === undefined ? {} : { after_version: newer.afterVersion, wait: newer.wait },
    signal,
  });

/** Writes the state over `version`; VERSION_CONFLICT when someone wrote since. */
export const writeRoomState = (appletId: string, roomId: string, write: RoomStateWrite) =>
  api<RoomState>(roomPath(appletId, roomId), { method: 'POST', body: write });

export function useApplets() {
  return useQuery({ queryKey: queryKeys.applets, queryFn: fetchApplets });
}
