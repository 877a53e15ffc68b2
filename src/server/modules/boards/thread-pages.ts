// Numbered pages of a thread: how many posts and pages a reader sees in it, which page holds a
// given post, and which page to read; and how long a board's list is, for its numbered pages.
// Cursors still walk threads and boards for clients that page by them.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../db/schema.js';
import type { User } from '../accounts/user.js';
import { visibleTo } from './messages.js';

/** A page asked for by number, or 'message': the page that holds the requested message. */
export type ThreadPageNumber = number | 'message';

export interface ThreadPages {
  /** The numbered page read (1 when neither page nor cursor was asked); null when by cursor. */
  page: number | null;
  pageCount: number;
  postCount: number;
  /** The page that holds the requested message, at this page size. */
  messagePage: number;
}

/** How many of the thread's posts the reader sees, in all and up to the post numbered `seq`. */
export async function threadPosition(
  db: Kysely<DatabaseSchema>,
  reader: User | null,
  threadId: string,
  seq: number,
): Promise<{ postCount: number; position: number }> {
  const row = await visibleTo(
    db
      .selectFrom('messages')
      .where('messages.thread_id', '=', threadId)
      .select((eb) => [
        eb.fn.countAll<number | string>().as('posts'),
        eb.fn
          .sum<number | string>(eb.case().when('messages.seq', '<=', seq).then(1).else(0).end())
          .as('before'),
      ]),
    reader,
  ).executeTakeFirstOrThrow();
  // A message whose author the reader ignores is not counted, but still stands where it was.
  return { postCount: Number(row.posts), position: Math.max(1, Number(row.before ?? 0)) };
}

/** The page of `size` posts that holds the `position`th one (both counted from 1). */
export const pageOf = (position: number, size: number) => Math.max(1, Math.ceil(position / size));

/**
 * Which page of the thread of `message` to read: `asked` (a number past the last page reads the
 * last one), the page holding the message ('message'), or the first when the caller pages by
 * cursor or asks nothing.
 */
export async function numberedThreadPage(
  db: Kysely<DatabaseSchema>,
  reader: User | null,
  message: { seq: number; thread_id: string },
  size: number,
  asked: ThreadPageNumber | undefined,
  byCursor = false,
): Promise<ThreadPages> {
  const { postCount, position } = await threadPosition(db, reader, message.thread_id, message.seq);
  const pageCount = pageOf(postCount, size);
  const messagePage = pageOf(position, size);
  const page = byCursor
    ? null
    : asked === 'message'
      ? messagePage
      : Math.min(asked ?? 1, pageCount);
  return { page, pageCount, postCount, messagePage };
}

/** How many messages (or, with `threads`, thread starters) of a board's list the reader sees. */
export async function boardListLength(
  db: Kysely<DatabaseSchema>,
  reader: User | null,
  boardId: string,
  threads: boolean,
): Promise<number> {
  let q = visibleTo(
    db
      .selectFrom('messages')
      .where('messages.board_id', '=', boardId)
      .where('messages.is_event', '=', false)
      .select((eb) => eb.fn.countAll<number | string>().as('n')),
    reader,
  );
  if (threads) q = q.where('messages.parent_id', 'is', null);
  return Number((await q.executeTakeFirstOrThrow()).n);
}
