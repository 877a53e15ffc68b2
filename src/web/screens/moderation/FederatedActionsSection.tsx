// The moderation actions peers sent (deletions, key bans, profile corrections): which peer sent
// each, whether it was applied here or refused (and why), and a button that undoes an applied
// one here only.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { queryKeys } from '../../api/keys';
import { reverseFederatedAction, useFederatedActions } from '../../api/moderation';
import type { FederatedAction } from '../../api/types';
import { Button } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { ColumnHeads, LoadMore } from '../../ui/paging';
import { Time } from '../../ui/text';
import { useAfterAction } from './forms';

const KIND_LABELS: Record<string, string> = {
  delete_message: 'delete message',
  ban_pubkey: 'ban key',
  unban_pubkey: 'lift key ban',
  correct_profile: 'correct profile',
};

function Status({ action }: { action: FederatedAction }) {
  if (action.status === 'refused') {
    return (
      <>
        <span className="uppercase text-red-300">refused</span>: {action.refusal}
      </>
    );
  }
  if (action.status === 'reversed') {
    return (
      <>
        <span className="uppercase text-phosphor-dim">reversed here</span>
        {action.reversed_at !== null && (
          <>
            {' '}
            <Time iso={action.reversed_at} />
          </>
        )}
      </>
    );
  }
  return <span className="uppercase text-amber">applied</span>;
}

function ReverseButton({
  action,
  onReversed,
}: {
  action: FederatedAction;
  onReversed: (a: FederatedAction) => void;
}) {
  const reverse = useMutation({
    mutationFn: () => reverseFederatedAction(action.id, 'reversed here by a moderator'),
    onSuccess: onReversed,
  });
  return (
    <>
      <Button
        variant="plain"
        disabled={reverse.isPending}
        aria-label={`Reverse ${KIND_LABELS[action.kind] ?? action.kind} of ${action.target} from ${action.peer.nickname}`}
        onClick={() => reverse.mutate()}
      >
        Reverse here
      </Button>
      <ErrorNotice error={reverse.error} />
    </>
  );
}

export function FederatedActionsSection() {
  const actions = useFederatedActions();
  const afterAction = useAfterAction();
  const [done, setDone] = useState<string | null>(null);
  const reversed = (a: FederatedAction) => {
    setDone(
      `Reversed here: ${KIND_LABELS[a.kind] ?? a.kind} of ${a.target.slice(0, 12)} from ${a.peer.nickname}. The peer is not told.`,
    );
    afterAction(queryKeys.federatedActions, queryKeys.bannedKeys);
  };
  const items = actions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <p className="mb-2 text-sm text-phosphor-dim">
        Actions of other instances&apos; moderators. An instance&apos;s actions apply here only when
        a sysop marked it trusted for moderation; reversing one undoes it on this instance only.
      </p>
      {done !== null && <Notice>{done}</Notice>}
      <ErrorNotice error={actions.error} />
      {actions.isPending && <Loading what="Loading the peers' actions" />}
      {actions.isSuccess && items.length === 0 && <Empty>No peer has sent an action.</Empty>}
      {items.length > 0 && (
        <div className="relative overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <caption className="sr-only">Moderation actions peers sent, newest first</caption>
            <ColumnHeads
              names={['Time', 'Peer', 'Moderator', 'Action', 'Target', 'Reason', 'Status', 'Undo']}
            />
            <tbody>
              {items.map((a) => (
                <tr key={a.id} className="border-b border-line align-top">
                  <td className="whitespace-nowrap p-1">
                    <Time iso={a.created_at} />
                  </td>
                  <td className="p-1" title={a.peer.fingerprint}>
                    {a.peer.nickname}
                  </td>
                  <td className="p-1">{`${a.moderator.nickname}@${a.peer.nickname}`}</td>
                  <td className="p-1">{KIND_LABELS[a.kind] ?? a.kind}</td>
                  <td className="break-all p-1" title={a.target}>
                    {a.target.slice(0, 12)}
                  </td>
                  <td className="p-1">{a.reason}</td>
                  <td className="p-1">
                    <Status action={a} />
                  </td>
                  <td className="p-1">
                    {a.status === 'applied' && <ReverseButton action={a} onReversed={reversed} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={actions} />
    </>
  );
}
