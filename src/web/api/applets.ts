// Applets: small programs users upload and sysops approve, each with its own event bus (read like
// AxonChat), rooms whose shared state is changed by compare-and-set on its version, per-user data
// and self-reported high scores. The applet runner's bridge calls these, one command each.
import { useQuery } from '@tanstack/react-query';
import { api, ApiError, authHeader, errorFrom } from './client';
import { queryKeys } from './keys';
import type {
  Applet,
  AppletEventPost,
  AppletInput,
  AppletData,
  AppletList,
  AppletReview,
  ChatEvent,
  HighScore,
  HighScoreList,
  ScoreInput,
  ChatRead,
  EventBatch,
  RoomState,
  RoomStateWrite,
} from './types';

const roomPath = (appletId: string, roomId: string) =>
  `/api/applets/${appletId}/rooms/${encodeURIComponent(roomId)}/shared_state/`;

export const fetchApplets = (status: 'approved' | 'pending' | 'rejected' = 'approved') =>
  api<AppletList>('/api/applets/', { query: { status } });

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

/** The applet's code as bytes; the runner checks their SHA-256 before anything runs. */
export async function fetchAppletCode(appletId: string): Promise<ArrayBuffer> {
  const headers = authHeader();
  let response: Response;
  try {
    response = await fetch(`/api/applets/${appletId}/code/`, { headers });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the server. Check your connection.');
  }
  if (!response.ok) throw await errorFrom(response, 'Authorization' in headers);
  return response.arrayBuffer();
}

export const reviewApplet = (appletId: string, review: AppletReview) =>
  api<Applet>(`/api/applets/${appletId}/review/`, { method: 'POST', body: review });

export const fetchAppletData = (appletId: string) =>
  api<AppletData>(`/api/applets/${appletId}/data/`);

export const saveAppletData = (appletId: string, data: unknown) =>
  api<AppletData>(`/api/applets/${appletId}/data/`, { method: 'PUT', body: { data } });

export const fetchHighScores = (appletId: string) =>
  api<HighScoreList>(`/api/applets/${appletId}/high_scores/`);

export const submitScore = (appletId: string, score: ScoreInput) =>
  api<HighScore>(`/api/applets/${appletId}/high_scores/`, { method: 'POST', body: score });

export const removeHighScore = (appletId: string, entryId: string) =>
  api<{ removed: boolean }>(`/api/applets/${appletId}/high_scores/${entryId}/`, {
    method: 'DELETE',
  });

export function useApplet(appletId: string) {
  return useQuery({
    queryKey: [...queryKeys.applets, appletId],
    queryFn: () => fetchApplet(appletId),
  });
}

export function useApplets(enabled = true) {
  return useQuery({ queryKey: queryKeys.applets, queryFn: () => fetchApplets(), enabled });
}
