// A message in its thread: each post with its signature check and attachments; reply, report and
// delete where the reader may. Threads come a page at a time; "Load more replies" adds the next.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { queryKeys } from '../api/keys';
import { deleteMessage, useThread } from '../api/messages';
import { reportMessage } from '../api/moderation';
import { useSession } from '../api/session';
import type { VerifiedMessage } from '../api/types';
import { AttachmentList } from '../ui/AttachmentList';
import { Author } from '../ui/Author';
import { Button, TextInput } from '../ui/controls';
import { ErrorNotice, Loading, Notice } from '../ui/feedback';
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

export function MessageScreen() {
  const { messageId = '' } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const queryClient = useQueryClient();
  const thread = useThread(messageId);
  // The latest quote for the reply composer; n tells a second quote of the same text apart.
  const [quote, setQuote] = useState<{ text: string; n: number } | undefined>(undefined);
  if (thread.isPending) return <Loading what="Loading the thread" />;
  if (thread.error !== null) return <ErrorNotice error={thread.error} />;
  const { message } = thread.data.pages[0]!;
  const loaded = thread.data.pages.flatMap((page) => page.thread);
  const posts = loaded.length > 0 ? loaded : [message];
  const starter = posts[0] ?? message;
  const onDeleted = (tombstone: boolean) => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.board(message.board_id) });
    if (message.id === starter.id && !tombstone) navigate(`/boards/${message.board_id}`);
    else void thread.refetch();
  };
  return (
    <Panel
      headingLevel={1}
      title={starter.subject}
      actions={
        <>
          {session !== null && <WatchThread messageId={message.id} />}
          <Link to={`/boards/${message.board_id}`}>Back to the board</Link>
        </>
      }
    >
      <ol aria-label="Thread" className="flex flex-col gap-3">
        {posts.map((m) => (
          <li key={m.id}>
            <Post
              message={m}
              current={m.id === message.id}
              hasReplies={posts.length > 1}
              onDeleted={m.id === message.id ? onDeleted : () => void thread.refetch()}
              onEdited={() => void thread.refetch()}
              onQuote={(text) => setQuote({ text, n: (quote?.n ?? 0) + 1 })}
            />
          </li>
        ))}
      </ol>
      {thread.hasNextPage && (
        <Button
          variant="plain"
          className="mt-3"
          disabled={thread.isFetchingNextPage}
          onClick={() => void thread.fetchNextPage()}
        >
          {thread.isFetchingNextPage ? 'Loading…' : 'Load more replies'}
        </Button>
      )}
      {session !== null && (
        <section aria-label="Reply" className="mt-4 border-t border-line pt-3">
          <h2 className="mb-2 font-bold uppercase text-amber">Reply</h2>
          <MessageComposer
            boardId={message.board_id}
            parent={{ id: starter.id, subject: starter.subject }}
            onPosted={(reply) => navigate(`/messages/${reply.id}`)}
            quote={quote}
          />
        </section>
      )}
    </Panel>
  );
}
