// A message in its thread: each post with its signature check and attachments; reply, report and
// delete where the reader may. Threads come by numbered page; a link to a post opens the page that
// holds it, scrolled to the post and highlighted, and reading a page marks it read.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { queryKeys } from '../api/keys';
import { deleteMessage, markRead, useThreadPage } from '../api/messages';
import { reportMessage } from '../api/moderation';
import { useSession } from '../api/session';
import type { VerifiedMessage } from '../api/types';
import { AttachmentList } from '../ui/AttachmentList';
import { Author } from '../ui/Author';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice, Loading, Notice } from '../ui/feedback';
import { PageNumbers } from '../ui/paging';
import { Panel } from '../ui/Panel';
import { WatchThread } from '../ui/WatchThread';
import { Markdown, Time } from '../ui/text';
import { MessageComposer } from './MessageComposer';
import { EditedMark, EditForm, VersionHistory } from './MessageEditing';
import { quoteMarkdown, selectedTextIn } from '../ui/quote';
import { authorAddress } from '../ui/pm-address';

function ReportForm({ message, onDone }: { message: VerifiedMessage; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const report = useMutation({
    mutationFn: () => reportMessage(message.id, reason),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    report.mutate();
  };
  if (report.isSuccess) return <Notice>Reported. A moderator will look at it.</Notice>;
  return (
    <form onSubmit={submit} aria-label="Report this message" className="mt-2">
      <TextInput
        label="Why are you reporting it?"
        required
        maxLength={500}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
      <ErrorNotice error={report.error} />
      <div className="flex gap-2">
        <Button type="submit" disabled={report.isPending}>
          Send report
        </Button>
        <Button variant="plain" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/** What deleting this message will do, said before the reader confirms. */
function deletionOutcome(message: VerifiedMessage, hasReplies: boolean, asModerator: boolean) {
  if (message.id === message.thread_id && hasReplies) {
    return `This opens a thread with replies: its text and attachments go, the thread and its replies stay, and a note "${asModerator ? 'removed by a moderator' : 'deleted by its author'}" with the time takes its place.`;
  }
  if (message.id === message.thread_id) return 'The thread and this message are deleted for good.';
  return 'This reply is deleted for good; the rest of the thread stays.';
}

function DeleteForm({
  message,
  hasReplies,
  asModerator,
  onDeleted,
}: {
  message: VerifiedMessage;
  hasReplies: boolean;
  asModerator: boolean;
  onDeleted: (tombstone: boolean) => void;
}) {
  const [reason, setReason] = useState('');
  const remove = useMutation({
    mutationFn: () => deleteMessage(message.id, asModerator ? reason : undefined),
    onSuccess: (answer) => onDeleted(answer.tombstone),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    remove.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Delete this message" className="mt-2">
      <p className="mb-2 text-sm">{deletionOutcome(message, hasReplies, asModerator)}</p>
      {asModerator && (
        <TextInput
          label="Reason (for the modlog)"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      )}
      <ErrorNotice error={remove.error} />
      <Button type="submit" variant="danger" disabled={remove.isPending}>
        Delete for good
      </Button>
    </form>
  );
}

/** Where a deleted opening post stood: who deleted it and when; the thread goes on below. */
function Tombstone({ message, current }: { message: VerifiedMessage; current: boolean }) {
  const deleted = message.deleted!;
  return (
    <article
      aria-labelledby={`m-${message.id}`}
      className={`border border-dashed p-3 ${current ? 'border-phosphor' : 'border-line'}`}
    >
      <h2 id={`m-${message.id}`} className="font-bold text-amber wrap-anywhere">
        {message.subject}
      </h2>
      <p className="text-sm italic text-phosphor-dim">
        {deleted.by === 'moderator' ? 'Removed by a moderator' : 'Deleted by its author'}{' '}
        <Time iso={deleted.at} />
      </p>
    </article>
  );
}

function Post({
  message,
  current,
  hasReplies,
  onDeleted,
  onEdited,
  onQuote,
}: {
  message: VerifiedMessage;
  current: boolean;
  hasReplies: boolean;
  onDeleted: (tombstone: boolean) => void;
  onEdited: () => void;
  /** Quotes Markdown into the reply. */
  onQuote: (quote: string) => void;
}) {
  const session = useSession();
  const [open, setOpen] = useState<'report' | 'delete' | 'edit' | 'versions' | null>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const user = session?.user;
  const mine = user !== undefined && message.author.user_id === user.id;
  const moderator = user !== undefined && (user.is_moderator || user.is_sysop);
  if (message.deleted !== null) return <Tombstone message={message} current={current} />;
  const toggle = (what: 'report' | 'delete' | 'edit' | 'versions') =>
    setOpen(open === what ? null : what);
  // The reader's selection inside this post, else the whole post.
  const quote = () =>
    onQuote(
      quoteMarkdown(message.author.nickname, selectedTextIn(bodyRef.current) || message.body),
    );
  return (
    <article
      aria-labelledby={`m-${message.id}`}
      className={`border p-3 ${current ? 'border-phosphor' : 'border-line'}`}
    >
      <h2 id={`m-${message.id}`} className="font-bold text-amber wrap-anywhere">
        {message.subject}
      </h2>
      <p className="mb-2 text-sm text-phosphor-dim">
        <Author
          nickname={message.author.nickname}
          fingerprint={message.author.fingerprint}
          instance={message.author.instance}
          avatarUrl={message.author.avatar_url ?? null}
          isAgent={message.author.is_agent}
        />{' '}
        · <Time iso={message.created_at} />
        <EditedMark
          message={message}
          history={
            mine || moderator
              ? { open: open === 'versions', toggle: () => toggle('versions') }
              : undefined
          }
        />{' '}
        ·{' '}
        {message.signature_valid ? (
          <span title="The author's key signed exactly this text">✔ signed</span>
        ) : (
          <span className="text-red-300">
            ✖ signature does not match: this text may have been altered
          </span>
        )}
      </p>
      {open === 'versions' && <VersionHistory message={message} />}
      <div ref={bodyRef}>
        <Markdown source={message.body} />
      </div>
      {/* A message without a local author came from a peer: its attachments may be on their way. */}
      <AttachmentList attachments={message.attachments} remote={message.author.user_id === null} />
      {user !== undefined && (
        <div className="mt-2 flex flex-wrap gap-2 text-xs">
          <Button variant="plain" className="text-xs" onClick={quote}>
            Quote
          </Button>
          {mine && (
            <Button
              variant="plain"
              className="text-xs"
              aria-expanded={open === 'edit'}
              onClick={() => toggle('edit')}
            >
              Edit
            </Button>
          )}
          {!mine && (
            <Button
              variant="plain"
              className="text-xs"
              aria-expanded={open === 'report'}
              onClick={() => setOpen(open === 'report' ? null : 'report')}
            >
              Report
            </Button>
          )}
          {(mine || moderator) && (
            <Button
              variant="plain"
              className="text-xs"
              aria-expanded={open === 'delete'}
              onClick={() => setOpen(open === 'delete' ? null : 'delete')}
            >
              Delete
            </Button>
          )}
          {!mine && authorAddress(message.author) !== undefined && (
            <Link
              to={`/pm/new?to=${encodeURIComponent(authorAddress(message.author)!)}`}
              className="px-1"
            >
              Send a private message
            </Link>
          )}
        </div>
      )}
      {open === 'report' && <ReportForm message={message} onDone={() => setOpen(null)} />}
      {open === 'edit' && (
        <EditForm
          message={message}
          onDone={(saved) => {
            setOpen(null);
            if (saved) onEdited();
          }}
        />
      )}
      {open === 'delete' && (
        <DeleteForm
          message={message}
          hasReplies={hasReplies}
          asModerator={moderator && !mine}
          onDeleted={onDeleted}
        />
      )}
    </article>
  );
}

/** The page asked for in `?page=`; absent or not a number: the page that holds the message. */
function askedPage(value: string | null): number | 'message' {
  const n = Number(value);
  return value !== null && Number.isInteger(n) && n >= 1 ? n : 'message';
}

export function MessageScreen() {
  const { messageId = '' } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const session = useSession();
  const queryClient = useQueryClient();
  const asked = askedPage(params.get('page'));
  const thread = useThreadPage(messageId, asked);
  // The latest quote for the reply composer; n tells a second quote of the same text apart.
  const [quote, setQuote] = useState<{ text: string; n: number } | undefined>(undefined);
  const shown = thread.data;
  const lastShown = shown?.thread.at(-1)?.id;
  // Reading a page moves the reader's position to its last post; boards then count afresh.
  useEffect(() => {
    if (session === null || lastShown === undefined) return;
    void markRead(lastShown).then(() => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.boards });
      void queryClient.invalidateQueries({ queryKey: ['read-positions'] });
    });
  }, [session, lastShown, queryClient]);
  // A link to a post (no page asked) lands on it: scrolled into view and highlighted.
  const target = asked === 'message' ? shown?.message.id : undefined;
  useEffect(() => {
    if (target !== undefined) document.getElementById(`post-${target}`)?.scrollIntoView();
  }, [target]);
  if (thread.isPending) return <Loading what="Loading the thread" />;
  if (thread.error !== null) return <ErrorNotice error={thread.error} />;
  const { message, page, page_count: pageCount, first_unread: firstUnread } = thread.data;
  const posts = thread.data.thread.length > 0 ? thread.data.thread : [message];
  const starter = page === 1 ? posts[0]! : null;
  const subject = starter?.subject ?? message.subject.replace(/^Re: /, '');
  const pageHref = (n: number) => `/messages/${messageId}?page=${n}`;
  const onDeleted = (tombstone: boolean) => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.board(message.board_id) });
    if (message.id === message.thread_id && !tombstone) navigate(`/boards/${message.board_id}`);
    else void thread.refetch();
  };
  return (
    <Panel
      headingLevel={1}
      title={subject}
      actions={
        <>
          {session !== null && <WatchThread messageId={message.id} />}
          <Link to={`/boards/${message.board_id}`}>Back to the board</Link>
        </>
      }
    >
      {firstUnread !== null && firstUnread.id !== target && (
        <p className="mb-2 text-sm">
          <Link to={`/messages/${firstUnread.id}`}>Jump to the first unread post</Link>
          {firstUnread.page > 1 && ` (page ${firstUnread.page})`}
        </p>
      )}
      <PageNumbers page={page ?? 1} pageCount={pageCount} href={pageHref} label="Thread pages" />
      <ol aria-label="Thread" className="flex flex-col gap-3">
        {posts.map((m) => (
          <li
            key={m.id}
            id={`post-${m.id}`}
            aria-current={m.id === target ? 'true' : undefined}
            className={m.id === target ? 'outline outline-2 outline-amber' : undefined}
          >
            <Post
              message={m}
              current={m.id === message.id}
              hasReplies={thread.data.post_count > 1}
              onDeleted={m.id === message.id ? onDeleted : () => void thread.refetch()}
              onEdited={() => void thread.refetch()}
              onQuote={(text) => setQuote({ text, n: (quote?.n ?? 0) + 1 })}
            />
          </li>
        ))}
      </ol>
      <PageNumbers page={page ?? 1} pageCount={pageCount} href={pageHref} label="Thread pages" />
      {session !== null && (
        <section aria-label="Reply" className="mt-4 border-t border-line pt-3">
          <h2 className="mb-2 font-bold uppercase text-amber">Reply</h2>
          <MessageComposer
            boardId={message.board_id}
            parent={{ id: message.thread_id, subject }}
            onPosted={(reply) => navigate(`/messages/${reply.id}`)}
            quote={quote}
          />
        </section>
      )}
    </Panel>
  );
}
