// Private messages: conversations (the latest first, each with the other person and the newest
// letter), and the inbox and the outbox, newest first.
import { Link, useSearchParams } from 'react-router';
import { useBox, useConversations } from '../api/private-messages';
import type { Conversation } from '../api/types';
import { Avatar } from '../ui/Avatar';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';
import { deliveryText, partyName, recipientName, senderName } from '../ui/pm-address';

type View = 'conversations' | 'inbox' | 'outbox';

/** One conversation: a link to it naming the person, with the newest letter's subject and time. */
function ConversationItem({ c }: { c: Conversation }) {
  const last = c.last_message;
  const name = partyName(c.with);
  const mine = last.from.fingerprint !== c.with.fingerprint;
  return (
    <li className="py-2">
      <Link
        to={`/pm/with/${c.with.fingerprint}`}
        className={`flex items-start gap-2 no-underline ${c.unread > 0 ? 'font-bold' : ''}`}
      >
        <Avatar url={c.with.avatar_url} name={name} size={36} />
        <span className="min-w-0 wrap-anywhere">
          <span className="text-phosphor underline">{name}</span>
          {c.unread > 0 && <span className="ml-2 text-xs uppercase text-amber">new</span>}
          <span className="block text-sm text-phosphor-dim">
            {mine ? 'You: ' : ''}
            {last.readable ? last.subject : '(damaged message)'}
          </span>
        </span>
      </Link>
      <p className="ml-11 text-xs text-phosphor-dim">
        <Time iso={last.created_at} />
        {c.unread > 0 && ` · ${c.unread} unread`}
      </p>
    </li>
  );
}

function Conversations({
  cursor,
  next,
}: {
  cursor: string | undefined;
  next: (c: string) => void;
}) {
  const list = useConversations(cursor);
  return (
    <>
      {list.isPending && <Loading what="Loading conversations" />}
      <ErrorNotice error={list.error} />
      {list.data?.items.length === 0 && <Empty>No conversations yet.</Empty>}
      <ol aria-label="Conversations" className="divide-y divide-line">
        {list.data?.items.map((c) => (
          <ConversationItem key={c.with.fingerprint} c={c} />
        ))}
      </ol>
      {list.data?.next_cursor && (
        <button
          type="button"
          className="mt-3 cursor-pointer underline"
          onClick={() => next(list.data.next_cursor!)}
        >
          Older →
        </button>
      )}
    </>
  );
}

function BoxList({
  box,
  cursor,
  next,
}: {
  box: 'inbox' | 'outbox';
  cursor: string | undefined;
  next: (c: string) => void;
}) {
  const list = useBox(box, cursor);
  return (
    <>
      {list.isPending && <Loading what="Loading messages" />}
      <ErrorNotice error={list.error} />
      {list.data?.items.length === 0 && (
        <Empty>{box === 'inbox' ? 'Your inbox is empty.' : 'You have sent nothing yet.'}</Empty>
      )}
      <ol aria-label={box === 'inbox' ? 'Inbox' : 'Sent messages'} className="divide-y divide-line">
        {list.data?.items.map((pm) => {
          const unread = box === 'inbox' && pm.read_at === null;
          const party = box === 'inbox' ? pm.from : pm.to;
          const name = box === 'inbox' ? senderName(pm) : recipientName(pm);
          return (
            <li key={pm.id} className="flex items-start gap-2 py-2">
              <Avatar url={party.avatar_url} name={name} size={28} />
              <div className="min-w-0">
                <Link to={`/pm/${pm.id}`} className={unread ? 'font-bold' : ''}>
                  {pm.readable ? pm.subject : '(damaged message)'}
                </Link>
                {unread && <span className="ml-2 text-xs uppercase text-amber">new</span>}
                <p className="text-sm text-phosphor-dim">
                  {box === 'inbox' ? 'from ' : 'to '}
                  <Link to={`/pm/with/${party.fingerprint}`}>{name}</Link> ·{' '}
                  <Time iso={pm.created_at} />
                  {box === 'outbox' && pm.delivery !== null && ` · ${deliveryText(pm)}`}
                </p>
              </div>
            </li>
          );
        })}
      </ol>
      {list.data?.next_cursor && (
        <button
          type="button"
          className="mt-3 cursor-pointer underline"
          onClick={() => next(list.data.next_cursor!)}
        >
          Older →
        </button>
      )}
    </>
  );
}

export function PrivateMessagesScreen() {
  const [params, setParams] = useSearchParams();
  const asked = params.get('box');
  const view: View = asked === 'inbox' || asked === 'outbox' ? asked : 'conversations';
  const cursor = params.get('cursor') ?? undefined;
  const next = (c: string) =>
    setParams(view === 'conversations' ? { cursor: c } : { box: view, cursor: c });
  const tab = (name: View, label: string) => (
    <button
      type="button"
      aria-pressed={view === name}
      className={`cursor-pointer border px-2 text-sm uppercase ${view === name ? 'border-phosphor bg-phosphor text-black' : 'border-line'}`}
      onClick={() => setParams(name === 'conversations' ? {} : { box: name })}
    >
      {label}
    </button>
  );
  return (
    <Panel
      headingLevel={1}
      title="Private messages"
      actions={
        <>
          {tab('conversations', 'Conversations')}
          {tab('inbox', 'Inbox')}
          {tab('outbox', 'Sent')}
          <Link to="/pm/new" className="border border-phosphor px-2 text-sm uppercase no-underline">
            Write
          </Link>
        </>
      }
    >
      <p className="mb-2 text-xs text-phosphor-dim">
        Sealed end to end: only you and the other person can open them.
      </p>
      {view === 'conversations' ? (
        <Conversations cursor={cursor} next={next} />
      ) : (
        <BoxList box={view} cursor={cursor} next={next} />
      )}
    </Panel>
  );
}
