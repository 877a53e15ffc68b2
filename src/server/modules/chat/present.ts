// Events as readers get them: JSON in the reader's time zone, each event presented once per zone
// and each read's answer serialised once for every waiter it goes to.
import type { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import { ok } from '../../http/envelope.js';
import { ByteCache } from '../../services/byte-cache.js';
import type { User } from '../accounts/user.js';
import type { BoardEvent } from '../realtime/events.js';
import type { EventBatchSchema, EventSchema } from './schema.js';
import type { EventBatch } from '../realtime/events.js';

// One formatter per time zone in use (zone names are validated on profiles, so few exist).
const formatters = new ByteCache<Intl.DateTimeFormat>({
  maxBytes: 1024 * 1024,
  ttlMs: 60 * 60 * 1000,
  sizeOf: () => 4096,
});
function localTime(ms: number, timezone: string): string {
  let format = formatters.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    formatters.set(timezone, format);
  }
  return format.format(new Date(ms));
}

export type PresentedEvent = z.output<typeof EventSchema>;

// Readers woken by one event share its BoardEvent objects (ChatService reads one page for them all),
// so each event is presented once per time zone, not once per reader. Treat the results as frozen.
const presented = new WeakMap<BoardEvent, Map<string, PresentedEvent>>();

export function presentEvent(e: BoardEvent, reader: User | null): PresentedEvent {
  const timezone = reader?.timezone ?? 'UTC';
  let byZone = presented.get(e);
  if (byZone === undefined) {
    byZone = new Map();
    presented.set(e, byZone);
  }
  let result = byZone.get(timezone);
  if (result === undefined) {
    result = presentEventOnce(e, timezone);
    byZone.set(timezone, result);
  }
  return result;
}

// The JSON answer to a read, per page and time zone: every long poll one event wakes gets the same
// page object (the handed-over page, or ChatService's shared read), so it is serialised once for
// them all, not once per waiter.
const answers = new WeakMap<readonly BoardEvent[], Map<string, Buffer>>();

export function answerBytes(batch: EventBatch, reader: User | null): Buffer {
  const key = `${reader?.timezone ?? 'UTC'}|${batch.nextCursor}`;
  let byKey = answers.get(batch.events);
  if (byKey === undefined) {
    byKey = new Map();
    answers.set(batch.events, byKey);
  }
  let bytes = byKey.get(key);
  if (bytes === undefined) {
    const data: z.output<typeof EventBatchSchema> = {
      events: batch.events.map((e) => presentEvent(e, reader)),
      next_cursor: String(batch.nextCursor),
    };
    bytes = Buffer.from(JSON.stringify(ok(data)));
    byKey.set(key, bytes);
  }
  return bytes;
}

function presentEventOnce(e: BoardEvent, timezone: string): PresentedEvent {
  return {
    cursor: String(e.cursor),
    id: e.id,
    board_id: e.boardId,
    subject: e.subject,
    body: e.body,
    body_html: renderMarkdown(e.body),
    author: {
      fingerprint: e.author.fingerprint,
      nickname: e.author.nickname,
      user_id: e.author.userId,
      avatar_url:
        e.author.avatarHash === null || e.author.userId === null
          ? null
          : `/api/users/${e.author.userId}/avatar/?v=${e.author.avatarHash.slice(0, 16)}`,
    },
    created_at: new Date(e.createdAt).toISOString(),
    created_at_local: localTime(e.createdAt, timezone),
  };
}
