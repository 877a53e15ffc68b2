// A board: its threads (by latest post, or as started when the board says so) or every message,
// newest first, a page at a time by cursor.
import { Link, useParams, useSearchParams } from 'react-router';
import { useBoard, useBoardPage } from '../api/boards';
import { useSession } from '../api/session';
import { Author } from '../ui/Author';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';

export function BoardScreen() {
  const { boardId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const session = useSession();
  const cursor = params.get('cursor') ?? undefined;
  const allMessages = params.get('view') === 'all';
  const board = useBoard(boardId);
  const page = useBoardPage(boardId, cursor, allMessages);
  const go = (next: { cursor?: string | null; view?: string }) => {
    const search = new URLSearchParams();
    const view = next.view ?? (allMessages ? 'all' : undefined);
    if (view === 'all') search.set('view', 'all');
    if (next.cursor) search.set('cursor', next.cursor);
    setParams(search);
  };
  return (
    <Panel
      headingLevel={1}
      title={board.data?.name ?? 'Board'}
      actions={
        <>
          <button
            type="button"
            className="cursor-pointer border border-line px-2 text-sm hover:border-phosphor"
            aria-pressed={!allMessages}
            onClick={() => go({ view: allMessages ? 'threads' : 'all', cursor: null })}
          >
            {allMessages ? 'Show threads' : 'Show every message'}
          </button>
          {board.data?.can_post === true && session !== null && (
            <Link
              to={`/boards/${boardId}/new`}
              className="border border-phosphor px-2 text-sm uppercase no-underline"
            >
              New thread
            </Link>
          )}
        </>
      }
    >
      <ErrorNotice error={board.error ?? page.error} />
      {board.data?.description && (
        <p className="mb-3 text-phosphor-dim">{board.data.description}</p>
      )}
      {page.isPending && <Loading what="Loading messages" />}
      {page.data?.items.length === 0 && (
        <Empty>{cursor ? 'No older messages.' : 'No messages yet. Start a thread!'}</Empty>
      )}
      <ol aria-label="Messages" className="divide-y divide-line">
        {page.data?.items.map((m) => (
          <li key={m.id} className="py-2">
            <Link to={`/messages/${m.id}`} className="font-bold wrap-anywhere">
              {m.subject}
            </Link>
            {m.attachments.length > 0 && (
              <span className="ml-2 text-xs text-amber">📎 {m.attachments.length}</span>
            )}
            <p className="text-sm text-phosphor-dim">
              {m.deleted === null ? (
                <Author
                  nickname={m.author.nickname}
                  fingerprint={m.author.fingerprint}
                  instance={m.author.instance}
                  isAgent={m.author.is_agent}
                />
              ) : (
                <span className="italic">
                  {m.deleted.by === 'moderator'
                    ? 'removed by a moderator'
                    : 'deleted by its author'}
                </span>
              )}{' '}
              · <Time iso={m.created_at} />
              {m.reply_count !== undefined &&
                ` · ${m.reply_count} ${m.reply_count === 1 ? 'reply' : 'replies'}`}
              {m.last_post !== undefined && m.last_post.id !== m.id && (
                <>
                  {' '}
                  · <Link to={`/messages/${m.last_post.id}`}>last post</Link> by{' '}
                  {m.last_post.nickname} at <Time iso={m.last_post.created_at} />
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
      <nav aria-label="Pages" className="mt-3 flex gap-3">
        {cursor !== undefined && (
          <button
            type="button"
            className="cursor-pointer underline"
            onClick={() => go({ cursor: null })}
          >
            ← Newest
          </button>
        )}
        {page.data?.next_cursor && (
          <button
            type="button"
            className="cursor-pointer underline"
            onClick={() => go({ cursor: page.data.next_cursor })}
          >
            Older →
          </button>
        )}
      </nav>
    </Panel>
  );
}
