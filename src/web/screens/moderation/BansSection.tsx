// Bans: of users (for a time or for good) and of keys, instance-wide.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { queryKeys } from '../../api/keys';
import { banKey, banUser, unbanKey, unbanUser, useBannedKeys } from '../../api/moderation';
import type { BannedPubkey } from '../../api/types';
import { Button, TextArea } from '../../ui/controls';
import { Empty, ErrorNotice, Loading } from '../../ui/feedback';
import { LoadMore } from '../../ui/paging';
import { Fingerprint, Time } from '../../ui/text';
import {
  ActionForm,
  BanTerms,
  type DurationLabel,
  UsernameInput,
  secondsOf,
  useAfterAction,
} from './forms';

function BanUserForm() {
  const [username, setUsername] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState<DurationLabel>('1 day');
  const afterAction = useAfterAction();
  const ban = useMutation({
    mutationFn: () => banUser(username, { reason, duration_seconds: secondsOf(duration) }),
    onSuccess: () => {
      setUsername('');
      setReason('');
      afterAction(queryKeys.adminUsers);
    },
  });
  return (
    <ActionForm
      label="Ban a user"
      heading
      className="min-w-0 flex-1 basis-72"
      action={ban}
      submit={() => ban.mutate()}
      submitLabel="Ban"
      danger
      done={(banned) => (
        <>
          {banned.username} is banned{' '}
          {banned.banned_until === null ? (
            'for good'
          ) : (
            <>
              until <Time iso={banned.banned_until} />
            </>
          )}
          ; their sessions have ended.
        </>
      )}
    >
      <UsernameInput value={username} onChange={setUsername} />
      <BanTerms reason={reason} onReason={setReason} duration={duration} onDuration={setDuration} />
    </ActionForm>
  );
}

function UnbanUserForm() {
  const [username, setUsername] = useState('');
  const afterAction = useAfterAction();
  const unban = useMutation({
    mutationFn: () => unbanUser(username),
    onSuccess: () => {
      setUsername('');
      afterAction(queryKeys.adminUsers);
    },
  });
  return (
    <ActionForm
      label="Lift a ban"
      heading
      className="min-w-0 flex-1 basis-72"
      action={unban}
      submit={() => unban.mutate()}
      submitLabel="Unban"
      done={(user) => <>{user.username} is no longer banned.</>}
    >
      <UsernameInput value={username} onChange={setUsername} />
    </ActionForm>
  );
}

function BanKeyForm() {
  const [pubkey, setPubkey] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState<DurationLabel>('For good');
  const afterAction = useAfterAction();
  const ban = useMutation({
    mutationFn: () =>
      banKey({ pubkey: pubkey.trim(), reason, duration_seconds: secondsOf(duration) }),
    onSuccess: () => {
      setPubkey('');
      setReason('');
      afterAction(queryKeys.bannedKeys);
    },
  });
  return (
    <ActionForm
      label="Ban a key"
      className="max-w-2xl"
      action={ban}
      submit={() => ban.mutate()}
      submitLabel="Ban key"
      danger
      done={(banned) => (
        <>
          Key <Fingerprint value={banned.fingerprint} /> is banned.
        </>
      )}
    >
      <TextArea
        label="Public key"
        rows={4}
        required
        maxLength={4096}
        spellCheck={false}
        className="font-mono text-sm"
        value={pubkey}
        onChange={(e) => setPubkey(e.target.value)}
        hint="PEM, base64 DER, or the 64-hex fingerprint. Content signed by this key is refused, here and from peers."
      />
      <BanTerms reason={reason} onReason={setReason} duration={duration} onDuration={setDuration} />
    </ActionForm>
  );
}

function BannedKeyRow({ ban }: { ban: BannedPubkey }) {
  const afterAction = useAfterAction();
  const unban = useMutation({
    mutationFn: () => unbanKey(ban.fingerprint),
    onSuccess: () => afterAction(queryKeys.bannedKeys),
  });
  return (
    <li className="flex flex-wrap items-start justify-between gap-2 py-2">
      <div className="min-w-0 flex-1 basis-64">
        <Fingerprint value={ban.fingerprint} />
        <p className="text-sm">
          <span className="text-amber">Reason:</span> {ban.reason}
        </p>
        <p className="text-xs text-phosphor-dim">
          Banned <Time iso={ban.created_at} />
          {' · '}
          {ban.expires_at === null ? (
            'for good'
          ) : (
            <>
              until <Time iso={ban.expires_at} />
            </>
          )}
        </p>
        <ErrorNotice error={unban.error} />
      </div>
      <Button variant="plain" disabled={unban.isPending} onClick={() => unban.mutate()}>
        Unban
      </Button>
    </li>
  );
}

function BannedKeys() {
  const keys = useBannedKeys();
  const items = keys.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <ErrorNotice error={keys.error} />
      {keys.isPending && <Loading what="Loading banned keys" />}
      {keys.isSuccess && items.length === 0 && <Empty>No keys are banned.</Empty>}
      <ul aria-label="Banned keys" className="divide-y divide-line">
        {items.map((ban) => (
          <BannedKeyRow key={ban.fingerprint} ban={ban} />
        ))}
      </ul>
      <LoadMore list={keys} />
    </>
  );
}
/** Every ban a moderator gives or lifts, of a user or of a key. */
export function BansSection() {
  return (
    <>
      <div className="flex flex-wrap gap-6">
        <BanUserForm />
        <UnbanUserForm />
      </div>
      <h3 className="mt-6 mb-2 font-bold text-amber">Banned keys</h3>
      <BannedKeys />
      <h3 className="mt-6 mb-2 font-bold text-amber">Ban a key</h3>
      <BanKeyForm />
    </>
  );
}
