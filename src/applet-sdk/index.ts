// The typed applet SDK: window.bbs's wire protocol (docs/applets.md) with types and subscribe
// helpers. It speaks exactly what the original helper speaks — {command, payload, requestId} to
// the parent, {command: 'response_<command>', requestId, payload | error} back — and reads only
// answers that come from the parent window.

export interface UserInfo {
  username: string;
  nickname: string;
  pubkey: string;
  avatar_url: string | null;
  karma: number;
  is_moderator: boolean;
  timezone: string;
}

export interface AppletInfo {
  id: string;
  name: string;
  description: string;
  author_pubkey: string | null;
  code_manifest: { content_hash: string } | null;
  created_at: string;
  category_name: string | null;
  is_debug_mode: boolean;
  handles_mime_types: string[];
  parameters: Record<string, unknown>;
}

export interface AppletEvent {
  id: string;
  cursor: string;
  subject: string;
  body: string;
  author_nickname: string;
  /** The author is an agent of the instance (a bot, e.g. a game's referee). */
  author_is_agent: boolean;
  avatar_url: string | null;
  created_at: string;
  display_time: string;
  pubkey: string;
}

export interface SharedState<T = unknown> {
  room_id: string;
  version: number;
  state: T | null;
}

export interface ScoreInput {
  score: number;
  wins?: number;
  losses?: number;
  draws?: number;
  level?: number;
}

export interface HighScore extends Required<ScoreInput> {
  id: string;
  nickname: string;
  pubkey: string;
  updated_at: string;
  self_reported: true;
}

export interface AttachmentContext {
  hash: string;
  filename: string;
  mime_type: string;
  size: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Builds the bridge for this frame; applets usually call it once: `const bbs = createBbs();`. */
export function createBbs(host: Window = window.parent) {
  const pending = new Map<number, Pending>();
  let next = 0;
  window.addEventListener('message', (event: MessageEvent) => {
    if (event.source !== host) return;
    const data = event.data as {
      command?: unknown;
      requestId?: unknown;
      payload?: unknown;
      error?: unknown;
    };
    if (typeof data?.command !== 'string' || !data.command.startsWith('response_')) return;
    if (typeof data.requestId !== 'number') return;
    const waiting = pending.get(data.requestId);
    if (waiting === undefined) return;
    pending.delete(data.requestId);
    if (typeof data.error === 'string') waiting.reject(new Error(data.error));
    else waiting.resolve(data.payload);
  });

  function call<T>(command: string, payload: unknown = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const requestId = next++;
      pending.set(requestId, { resolve: resolve as (value: unknown) => void, reject });
      host.postMessage({ command, payload, requestId }, '*');
    });
  }

  const bbs = {
    getUserInfo: () => call<UserInfo>('getUserInfo'),
    getAppletInfo: () => call<AppletInfo>('getAppletInfo'),
    getData: <T = unknown>() => call<T | null>('getData'),
    saveData: (data: unknown) => call<{ saved: true }>('saveData', data),
    postEvent: (subject: string, body: string) => call<AppletEvent>('postEvent', { subject, body }),
    readEvents: (after?: string, wait = 0) =>
      call<{ events: AppletEvent[]; next_cursor: string }>('readEvents', { after, wait }),
    getSharedState: <T = unknown>(roomId: string) =>
      call<SharedState<T>>('getSharedState', { room_id: roomId }),
    setSharedState: <T = unknown>(roomId: string, version: number, state: T) =>
      call<SharedState<T>>('setSharedState', { room_id: roomId, version, state }),
    getAttachmentContext: () => call<AttachmentContext | null>('getAttachmentContext'),
    getAttachmentBlob: (hash: string) => call<Blob>('getAttachmentBlob', { hash }),
    submitScore: (score: ScoreInput) => call<HighScore>('submitScore', score),
    getHighScores: () => call<HighScore[]>('getHighScores'),

    /**
     * Calls `onEvents` with each new batch of events (long poll) until the returned stop(); with
     * `recent`, first with the latest events already on the bus (a chat's history).
     */
    subscribeEvents(
      onEvents: (events: AppletEvent[]) => void,
      { recent = false }: { recent?: boolean } = {},
    ): () => void {
      let running = true;
      void (async () => {
        const first = await bbs.readEvents();
        if (running && recent && first.events.length > 0) onEvents(first.events);
        let cursor = first.next_cursor;
        while (running) {
          try {
            const batch = await bbs.readEvents(cursor, 25);
            cursor = batch.next_cursor;
            if (running && batch.events.length > 0) onEvents(batch.events);
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 2000));
          }
        }
      })();
      return () => {
        running = false;
      };
    },

    /** Calls `onState` with each new version of a room's state until the returned stop(). */
    subscribeSharedState<T = unknown>(
      roomId: string,
      onState: (state: SharedState<T>) => void,
    ): () => void {
      let running = true;
      void (async () => {
        let version = -1;
        while (running) {
          try {
            const state = await call<SharedState<T>>('getSharedState', {
              room_id: roomId,
              ...(version < 0 ? {} : { after_version: version, wait: 25 }),
            });
            if (running && state.version !== version) onState(state);
            version = state.version;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 2000));
          }
        }
      })();
      return () => {
        running = false;
      };
    },
  };
  return bbs;
}

export type Bbs = ReturnType<typeof createBbs>;

export { assetUrls, openZip, type ZipArchive, type ZipEntry, type ZipLimits } from './zip';
