// Private messages: the inbox and the outbox, newest first.
import { Link, useSearchParams } from 'react-router';
import { useBox } from '../api/private-messages';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';
import { deliveryText, recipientName, senderName } from '../ui/pm-address';

export function PrivateMessagesScreen() {
  const [params, setParams] = useSearchParams();
  const box = params.get('box') === 'outbox' ? 'outbox' : 'inbox';
  const cursor = params.get('cursor') ?? undefined;
  const list = useBox(box, cursor);
  const tab = (name: 'inbox' | 'outbox', label: string) => (
    <button
      type="button"
      aria-pressed={box === name}
      className={`cursor-pointer border px-2 text-sm uppercase ${box === name ? 'border-phosphor bg-phosphor text-black' : 'border-line'}`}
      onClick={() => setParams({ box: name })}
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
          {tab(
            'inbox',
            `Inbox${list.data && box === 'inbox' && list.data.unread > 0 ? ` (${list.data.unread} new)` : ''}`,
          )}
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
      {list.isPending && <Loading what="Loading messages" />}
      <ErrorNotice error={list.error} />
      {list.data?.items.length === 0 && (
        <Empty>{box === 'inbox' ? 'Your inbox is empty.' : 'You have sent nothing yet.'}</Empty>
      )}
      <ol aria-label={box === 'inbox' ? 'Inbox' : 'Sent messages'} className="divide-y divide-line">
        {list.data?.items.map((pm) => {
          const unread = box === 'inbox' && pm.read_at === null;
          return (
            <li key={pm.id} className="py-2">
              <Link to={`/pm/${pm.id}`} className={unread ? 'font-bold' : ''}>
                {pm.readable ? pm.subject : '(damaged message)'}
              </Link>
              {unread && <span className="ml-2 text-xs uppercase text-amber">new</span>}
              <p className="text-sm text-phosphor-dim">
                {box === 'inbox' ? `from ${senderName(pm)}` : `to ${recipientName(pm)}`} ·{' '}
                <Time iso={pm.created_at} />
                {box === 'outbox' && pm.delivery !== null && ` · ${deliveryText(pm)}`}
              </p>
            </li>
          );
        })}
      </ol>
      {list.data?.next_cursor && (
        <button
          type="button"
          className="mt-3 cursor-pointer underline"
          onClick={() => setParams({ box, cursor: list.data.next_cursor! })}
        >
          Older →
        </button>
      )}
    </Panel>
  );
}
