// A board's activity as its list shows it: how many threads and posts it holds and its latest
// post, counted over what any reader may see (not events, not keys banned here).
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../db/schema.js';
import { visibleTo } from './messages.js';

export interface BoardActivity {
  threadCount: number;
  postCount: number;
  lastPost: {
    id: string;
    threadId: string;
    subject: string;
    nickname: string;
    fingerprint: string;
    createdAt: number;
  } | null;
}

/** The activity of each board named, in one query for the counts and one for the latest posts. */
export async function boardActivity(
  db: Kysely<DatabaseSchema>,
  boardIds: readonly string[],
): Promise<Map<string, BoardActivity>> {
  const activity = new Map<string, BoardActivity>(
    boardIds.map((id) => [id, { threadCount: 0, postCount: 0, lastPost: null }]),
  );
  if (boardIds.length === 0) return activity;
  const counts = await visibleTo(
    db
      .selectFrom('messages')
      .where('messages.board_id', 'in', boardIds)
      .where('messages.is_event', '=', false)
      .where('messages.deleted_at', 'is', null)
      .groupBy('messages.board_id')
      .select((eb) => [
        'messages.board_id',
        eb.fn.countAll<number | string>().as('posts'),
        eb.fn
          .sum<number | string>(
            eb.case().when('messages.parent_id', 'is', null).then(1).else(0).end(),
          )
          .as('threads'),
        eb.fn.max('messages.seq').as('last_seq'),
      ]),
    null,
  ).execute();
  const lastSeqs = counts.map((c) => Number(c.last_seq));
  const last =
    lastSeqs.length === 0
      ? []
      : await db
          .selectFrom('messages')
          .select([
            'seq',
            'id',
            'board_id',
            'thread_id',
            'subject',
            'author_nickname',
            'author_fingerprint',
            'created_at',
          ])
          .where('seq', 'in', lastSeqs)
          .execute();
  for (const c of counts) {
    const row = last.find((r) => r.board_id === c.board_id);
    activity.set(c.board_id, {
      threadCount: Number(c.threads ?? 0),
      postCount: Number(c.posts),
      lastPost:
        row === undefined
          ? null
          : {
              id: row.id,
              threadId: row.thread_id,
              subject: row.subject,
              nickname: row.author_nickname,
              fingerprint: row.author_fingerprint,
              createdAt: row.created_at,
            },
    });
  }
  return activity;
}
