// One private message, opened (which marks it read), with reply and delete.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { deletePrivateMessage, usePrivateMessage } from '../api/private-messages';
import { useSession } from '../api/session';
import { AttachmentList } from '../ui/AttachmentList';
import { Author } from '../ui/Author';
import { Button } from '../ui/controls';
import { ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Markdown, Time } from '../ui/text';
import {
  deliveryText,
  otherParty,
  recipientName,
  replyAddress,
  senderName,
} from '../ui/pm-address';
import { Avatar } from '../ui/Avatar';
import { queryKeys } from '../api/keys';

export function PrivateMessageScreen() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const session = useSession();
  const queryClient = useQueryClient();
  const pm = usePrivateMessage(id);
  const remove = useMutation({
    mutationFn: () => deletePrivateMessage(id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.privateMessages });
      navigate('/pm');
    },
  });
  if (pm.isPending) return <Loading what="Opening the message" />;
  if (pm.error !== null) return <ErrorNotice error={pm.error} />;
  const m = pm.data;
  const received = m.to.user_id === session?.user.id;
  const delivery = deliveryText(m);
  return (
    <Panel
      headingLevel={1}
      title={m.readable ? m.subject : '(damaged message)'}
      actions={<Link to="/pm">Back to messages</Link>}
    >
      <p className="mb-2 text-sm text-phosphor-dim">
        From{' '}
        <Author
          nickname={senderName(m)}
          fingerprint={m.from.fingerprint}
          instance={m.from.instance}
          avatarUrl={m.from.avatar_url}
        />{' '}
        to <span title={`key ${m.to.fingerprint}`}>{recipientName(m)}</span>{' '}
        {m.to.avatar_url !== null && (
          <Avatar url={m.to.avatar_url} name={recipientName(m)} size={20} />
        )}{' '}
        · <Time iso={m.created_at} /> ·{' '}
        {m.signature_valid ? '✔ signed' : '✖ signature does not match'}
      </p>
      {delivery !== undefined && (
        <p
          aria-label="Delivery"
          className={`mb-2 text-sm ${m.delivery?.state === 'refused' ? 'text-amber' : 'text-phosphor-dim'}`}
        >
          {delivery}
        </p>
      )}
      {m.readable ? (
        <Markdown source={m.body} />
      ) : (
        <p>This message is damaged and cannot be opened.</p>
      )}
      <AttachmentList attachments={m.attachments} />
      <ErrorNotice error={remove.error} />
      <div className="mt-3 flex gap-2">
        {received && m.readable && (
          <Link
            to={`/pm/new?to=${encodeURIComponent(replyAddress(m))}&subject=${encodeURIComponent(m.subject.startsWith('Re: ') ? m.subject : `Re: ${m.subject}`)}&reply_to=${m.id}`}
            className="border border-phosphor px-3 py-1 uppercase no-underline"
          >
            Reply
          </Link>
        )}
        <Link
          to={`/pm/with/${otherParty(m, session?.user.id).fingerprint}`}
          className="border border-line px-3 py-1 uppercase no-underline"
        >
          Conversation
        </Link>
        <Button variant="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
          Delete
        </Button>
      </div>
    </Panel>
  );
}
