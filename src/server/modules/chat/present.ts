// Events as readers get them: JSON in the reader's time zone, each event presented once per zone
// and each read's answer serialised once for every waiter it goes to (through the realtime
// module's SharedAnswers).
import type { z } from 'zod';
import { avatarUrl } from '../../../shared/accounts.js';
import { renderMarkdown } from '../../../shared/markdown.js';
import { ok } from '../../http/envelope.js';
import { ByteCache } from '../../services/byte-cache.js';
import type { User } from '../accounts/user.js';
import { SharedAnswers } from '../realtime/answer-cache.js';
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
const presented = new SharedAnswers<BoardEvent, PresentedEvent>();

export function presentEvent(e: BoardEvent, reader: User | null): PresentedEvent {
  const timezone = reader?.timezone ?? 'UTC';
  return presented.get(e, timezone, () => presentEventOnce(e, timezone));
}

/**
 * The JSON answer to a read, per page and time zone: every long poll one event wakes gets the same
 * page object (the handed-over page, or ChatService's shared read), so it is serialised once for
 * them all, not once per waiter. The cache is the realtime module's (`ctx.realtime.eventAnswers`).
 */
export function answerBytes(
  answers: SharedAnswers<readonly BoardEvent[], Buffer>,
  batch: EventBatch,
  reader: User | null,
): Buffer {
  return answers.get(batch.events, `${reader?.timezone ?? 'UTC'}|${batch.nextCursor}`, () => {
    const data: z.output<typeof EventBatchSchema> = {
      events: batch.events.map((e) => presentEvent(e, reader)),
      next_cursor: String(batch.nextCursor),
    };
    return Buffer.from(JSON.stringify(ok(data)));
  });
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
      avatar_url: e.author.userId === null ? null : avatarUrl(e.author.userId, e.author.avatarHash),
      is_agent: e.author.isAgent,
    },
    created_at: new Date(e.createdAt).toISOString(),
    created_at_local: localTime(e.createdAt, timezone),
  };
}
