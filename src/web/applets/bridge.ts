// The host side of window.bbs: the wire protocol of applets written for the original system. The
// frame sends {command, payload, requestId} with postMessage; the host answers
// {command: 'response_<command>', requestId, payload} or {…, error: '<message>'}. Only messages
// whose source is the applet's own frame are read, every request is answered (an unknown command,
// a malformed one, or one over the rate limit gets an error, never silence), and each command is one
// narrow operation of the data layer — there is no generic fetch.
import { ApiError } from '../api/client';
import { fetchProfile } from '../api/profile';
import { downloadContent } from '../api/transfers';
import {
  fetchAppletData,
  fetchHighScores,
  postAppletEvent,
  readAppletEvents,
  readRoomState,
  saveAppletData,
  submitScore,
  writeRoomState,
} from '../api/applets';
import type { Applet, ChatEvent } from '../api/types';

/** The attachment an applet was opened with ("Open with …"), if any. */
export interface AttachmentContext {
  hash: string;
  filename: string;
  mime_type: string;
  size: number;
}

export interface BridgeOptions {
  applet: Applet;
  attachment: AttachmentContext | null;
}

type Handler = (payload: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** Requests a frame may make: a burst of BURST, then RATE a second; at most IN_FLIGHT at once. */
export const BRIDGE_LIMITS = { BURST: 40, RATE: 20, IN_FLIGHT: 8 } as const;

const str = (value: unknown, name: string, max = 200): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    throw new Error(`${name} must be a string of 1 to ${max} characters`);
  return value;
};
const int = (value: unknown, name: string, fallback?: number): number => {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number ≥ 0`);
  return value;
};

const presentEvent = (e: ChatEvent) => ({
  id: e.id,
  cursor: e.cursor,
  subject: e.subject,
  body: e.body,
  author_nickname: e.author.nickname,
  author_is_agent: e.author.is_agent,
  avatar_url: e.author.avatar_url,
  created_at: e.created_at,
  display_time: e.created_at_local,
  pubkey: e.author.fingerprint,
});

/** One narrow operation per command. */
function handlers({ applet, attachment }: BridgeOptions): Record<string, Handler> {
  const roomOf = (payload: Record<string, unknown>) =>
    str(payload.room_id ?? payload.roomId ?? 'default', 'room_id', 100);
  return {
    getUserInfo: async () => {
      const p = await fetchProfile();
      return {
        username: p.username,
        nickname: p.nickname,
        pubkey: p.pubkey,
        avatar_url: p.avatar_url,
        karma: p.karma,
        is_moderator: p.is_moderator || p.is_sysop,
        timezone: p.timezone,
      };
    },
    getAppletInfo: () =>
      Promise.resolve({
        id: applet.id,
        name: applet.name,
        description: applet.description,
        author_pubkey: applet.author_pubkey,
        code_manifest: applet.code_manifest,
        created_at: applet.created_at,
        category_name: applet.category_name,
        is_debug_mode: applet.is_debug_mode,
        handles_mime_types: applet.handles_mime_types,
        parameters: applet.parameters,
      }),
    getData: async () => (await fetchAppletData(applet.id)).data,
    // The original bridge saved the payload itself; so does this one.
    saveData: async (payload) => {
      await saveAppletData(applet.id, payload);
      return { saved: true };
    },
    postEvent: async (payload) => {
      const event = await postAppletEvent(applet.id, {
        subject: str(payload.subject, 'subject', 100),
        body: str(payload.body, 'body', 10_000),
      });
      return presentEvent(event);
    },
    // {after?, wait?}: with wait (1 to 30 s) it is the subscribe form, a long poll for new events.
    readEvents: async (payload, signal) => {
      const after = payload.after === undefined ? undefined : str(payload.after, 'after');
      const wait = int(payload.wait, 'wait', 0);
      const batch = await readAppletEvents(
        applet.id,
        { ...(after === undefined ? {} : { after }), wait: Math.min(wait, 30), limit: 100 },
        signal,
      );
      return { events: batch.events.map(presentEvent), next_cursor: batch.next_cursor };
    },
    getSharedState: async (payload, signal) => {
      const room = roomOf(payload);
      const newer =
        payload.after_version === undefined
          ? undefined
          : {
              afterVersion: int(payload.after_version, 'after_version'),
              wait: Math.min(int(payload.wait, 'wait', 25), 30),
            };
      const state = await readRoomState(applet.id, room, newer, signal);
      return { room_id: state.room_id, version: state.version, state: state.state };
    },
    setSharedState: async (payload) => {
      const state = await writeRoomState(applet.id, roomOf(payload), {
        version: int(payload.version, 'version'),
        state: (payload.state ?? null) as never,
      });
      return { room_id: state.room_id, version: state.version, state: state.state };
    },
    getAttachmentContext: () => Promise.resolve(attachment),
    // Only the applet's own asset package and the attachment it was opened with.
    getAttachmentBlob: async (payload, signal) => {
      const hash = str(payload.hash, 'hash', 64);
      const allowed = [applet.parameters.asset_package_hash, attachment?.hash];
      if (!allowed.includes(hash))
        throw new Error('only the asset package and the attachment the applet was opened with');
      return downloadContent(hash, () => undefined, signal);
    },
    submitScore: async (payload) =>
      submitScore(applet.id, {
        score: int(payload.score, 'score'),
        wins: int(payload.wins, 'wins', 0),
        losses: int(payload.losses, 'losses', 0),
        draws: int(payload.draws, 'draws', 0),
        level: int(payload.level, 'level', 0),
      }),
    getHighScores: async () => (await fetchHighScores(applet.id)).items,
  };
}

export const BRIDGE_COMMANDS = Object.keys(
  handlers({ applet: { parameters: {} } as Applet, attachment: null }),
);

const messageOf = (error: unknown): string =>
  error instanceof ApiError || error instanceof Error ? error.message : 'the request failed';

/**
 * Serves one frame's requests until the returned function stops it (which also aborts the
 * requests still running).
 */
export function serveBridge(frame: HTMLIFrameElement, options: BridgeOptions): () => void {
  const table = handlers(options);
  const controller = new AbortController();
  let tokens: number = BRIDGE_LIMITS.BURST;
  let last = performance.now();
  let inFlight = 0;

  const reply = (answer: Record<string, unknown>) => {
    // The frame's origin is opaque: '*' is the only target it matches; the window is fixed.
    frame.contentWindow?.postMessage(answer, '*');
  };

  const onMessage = (event: MessageEvent) => {
    if (event.source === null || event.source !== frame.contentWindow) return;
    const data: unknown = event.data;
    if (typeof data !== 'object' || data === null) return;
    const { command, payload, requestId } = data as Record<string, unknown>;
    if (typeof command !== 'string' || command.startsWith('response_')) return;
    const id =
      typeof requestId === 'number' || (typeof requestId === 'string' && requestId.length <= 100)
        ? requestId
        : null;
    const name = command.slice(0, 64);
    const fail = (error: string) => reply({ command: `response_${name}`, requestId: id, error });

    const now = performance.now();
    tokens = Math.min(BRIDGE_LIMITS.BURST, tokens + ((now - last) / 1000) * BRIDGE_LIMITS.RATE);
    last = now;
    if (tokens < 1 || inFlight >= BRIDGE_LIMITS.IN_FLIGHT) {
      fail('too many requests: slow down');
      return;
    }
    tokens -= 1;
    if (command === 'fetch')
      return fail(`there is no generic fetch; the commands are: ${BRIDGE_COMMANDS.join(', ')}`);
    const handler = Object.hasOwn(table, command) ? table[command] : undefined;
    if (handler === undefined)
      return fail(`unknown command ${name}; the commands are: ${BRIDGE_COMMANDS.join(', ')}`);
    const args =
      typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? (payload as Record<string, unknown>)
        : {};
    inFlight++;
    handler(command === 'saveData' ? ((payload ?? null) as never) : args, controller.signal)
      .then((result) => reply({ command: `response_${command}`, requestId: id, payload: result }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) fail(messageOf(error));
      })
      .finally(() => inFlight--);
  };

  window.addEventListener('message', onMessage);
  return () => {
    window.removeEventListener('message', onMessage);
    controller.abort();
  };
}
