// A board: its threads (by latest post, or as started when the board says so) or every message,
// newest first, by numbered page; a signed-in reader sees which threads hold posts they have not
// read, each linking to its first unread post.
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useBoard, useBoardPage } from '../api/boards';
import { useReadPositions } from '../api/messages';
import { useSession } from '../api/session';
import { PageNumbers } from '../ui/paging';
import { Author } from '../ui/Author';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';

export function BoardScreen() {
  const { boardId = '' } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const session = useSession();
  const asked = Number(params.get('page'));
  const pageNumber = Number.isInteger(asked) && asked >= 1 ? asked : 1;
  const allMessages = params.get('view') === 'all';
  const board = useBoard(boardId);
  const page = useBoardPage(boardId, pageNumber, allMessages);
  const threadIds = allMessages ? [] : (page.data?.items.map((m) => m.id) ?? []);
  const unread = useReadPositions(threadIds, session !== null);
  const unreadOf = new Map(unread.data?.items.map((u) => [u.thread_id, u]));
  const href = (next: { page?: number; view?: string }) => {
    const search = new URLSearchParams();
    const view = next.view ?? (allMessages ? 'all' : undefined);
    if (view === 'all') search.set('view', 'all');
    if (next.page !== undefined && next.page > 1) search.set('page', String(next.page));
    return `/boards/${boardId}${search.size > 0 ? `?${search}` : ''}`;
  };
  const go = (next: { page?: number; view?: string }) => navigate(href(next));
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
            onClick={() => go({ view: allMessages ? 'threads' : 'all' })}
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
        <Empty>{pageNumber > 1 ? 'No older messages.' : 'No messages yet. Start a thread!'}</Empty>
      )}
      <ol aria-label="Messages" className="divide-y divide-line">
        {page.data?.items.map((m) => (
          <li key={m.id} className="py-2">
            <Link to={`/messages/${m.id}`} className="font-bold wrap-anywhere">
              {m.subject}
            </Link>
            {unreadOf.has(m.id) && (
              <Link
                to={`/messages/${unreadOf.get(m.id)!.first_unread_id ?? m.id}`}
                className="ml-2 border border-amber px-1 text-xs text-amber no-underline"
                aria-label={`${unreadOf.get(m.id)!.unread_count} unread: go to the first`}
              >
                {unreadOf.get(m.id)!.unread_count} new
              </Link>
            )}
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
      <PageNumbers
        page={pageNumber}
        pageCount={page.data?.page_count ?? 1}
        href={(n) => href({ page: n })}
      />
    </Panel>
  );
}
