// The peer instances this one trusts, with their federation health; adding one shows the
// fingerprint it presents for the sysop to compare before anything is stored.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  addPeer,
  peerKeys,
  usePeerActions,
  usePeers,
  type Peer,
  type PeerPatch,
  type PeerState,
  type ShownIdentity,
  type Transport,
} from '../../api/federation';
import { Button, Field, TextInput } from '../../ui/controls';
import { Empty, ErrorNotice, Loading, Notice } from '../../ui/feedback';
import { Fingerprint, Time } from '../../ui/text';

const STATE_LOOK: Record<PeerState, string> = {
  healthy: 'text-phosphor',
  lagging: 'text-amber',
  dead: 'text-red-300',
  untrusted: 'text-phosphor-dim',
};

const bytes = (n: number) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;

function Health({ peer }: { peer: Peer }) {
  const h = peer.health;
  return (
    <dl className="mt-1 grid grid-cols-1 gap-x-3 text-xs sm:grid-cols-[max-content_1fr]">
      <dt className="text-amber">State</dt>
      <dd>
        <strong className={`uppercase ${STATE_LOOK[h.state]}`}>{h.state}</strong> — {h.reason}
      </dd>
      <dt className="text-amber">Queue</dt>
      <dd>
        {h.queue_length} object(s) waiting
        {h.queue_length > 0 && <>, oldest {h.lag_seconds} s old</>}
      </dd>
      <dt className="text-amber">Last success</dt>
      <dd>{h.last_success_at === null ? 'never' : <Time iso={h.last_success_at} />}</dd>
      {h.last_error_at !== null && (
        <>
          <dt className="text-amber">Last error</dt>
          <dd className="text-red-300">
            <Time iso={h.last_error_at} /> — {h.last_error} ({h.consecutive_failures} in a row)
          </dd>
        </>
      )}
      <dt className="text-amber">Moved</dt>
      <dd>
        out {h.objects_out} object(s), {bytes(h.bytes_out)} · in {h.objects_in} object(s),{' '}
        {bytes(h.bytes_in)}, {h.refused_in} refused · {h.chunk_fetches_pending} chunk fetch(es)
        pending
      </dd>
    </dl>
  );
}

const TRUST_FLAGS = [
  { flag: 'trusted', label: 'Trusted' },
  { flag: 'trusted_for_moderation', label: 'Trusted for moderation' },
] as const;

function PeerRow({ peer }: { peer: Peer }) {
  const actions = usePeerActions(peer.fingerprint);
  const [confirmRemove, setConfirmRemove] = useState(false);
  // What the sysop just ticked, shown until the answer settles it (see usePeerActions' patch).
  const [asked, setAsked] = useState<PeerPatch>({});
  const ask = (patch: PeerPatch) => {
    setAsked(patch);
    actions.patch.mutate(patch, { onSettled: () => setAsked({}) });
  };
  const busy = Object.values(actions).some((m) => m.isPending);
  const error =
    actions.patch.error ?? actions.refresh.error ?? actions.acceptKey.error ?? actions.remove.error;
  return (
    <li className="py-3" aria-label={`Peer ${peer.nickname}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <div className="min-w-0">
          <strong className="text-phosphor">{peer.nickname}</strong>
          <span className="ml-2 break-all text-xs text-phosphor-dim">{peer.base_url}</span>
          <span className="ml-2 text-xs uppercase text-amber">
            {peer.transport}
            {peer.proxy_url !== null && ` ${peer.proxy_url}`}
          </span>
          <div className="text-xs">
            <Fingerprint value={peer.fingerprint} />
          </div>
        </div>
        <div className="flex flex-wrap gap-2">
          {TRUST_FLAGS.map(({ flag, label }) => (
            <label key={flag} className="flex items-center gap-1 text-sm">
              <input
                type="checkbox"
                checked={asked[flag] ?? peer[flag]}
                disabled={busy}
                onChange={(e) => ask({ [flag]: e.target.checked })}
              />
              {label}
            </label>
          ))}
          <Button variant="plain" disabled={busy} onClick={() => actions.refresh.mutate()}>
            Check key
          </Button>
          {confirmRemove ? (
            <>
              <Button variant="danger" disabled={busy} onClick={() => actions.remove.mutate()}>
                Remove {peer.nickname}
              </Button>
              <Button variant="plain" onClick={() => setConfirmRemove(false)}>
                Keep
              </Button>
            </>
          ) : (
            <Button variant="plain" onClick={() => setConfirmRemove(true)}>
              Remove
            </Button>
          )}
        </div>
      </div>
      {peer.pending_fingerprint !== null && (
        <div role="alert" className="mt-2 border border-amber p-2 text-sm">
          <p>
            This peer now shows <strong>another key</strong>. It is not trusted under it until you
            accept it. Compare the new fingerprint with its sysop first:
          </p>
          <p className="my-1">
            <Fingerprint value={peer.pending_fingerprint} />
          </p>
          <Button
            variant="danger"
            disabled={busy}
            onClick={() => actions.acceptKey.mutate(peer.pending_fingerprint!)}
          >
            Accept the new key
          </Button>
        </div>
      )}
      {actions.refresh.data?.key_changed === false && (
        <Notice>The peer shows the key it was added with.</Notice>
      )}
      <ErrorNotice error={error} />
      <Health peer={peer} />
    </li>
  );
}

function AddPeerForm() {
  const queryClient = useQueryClient();
  const [baseUrl, setBaseUrl] = useState('');
  const [transport, setTransport] = useState<Transport>('direct');
  const [proxyUrl, setProxyUrl] = useState('');
  const [moderation, setModeration] = useState(false);
  const [shown, setShown] = useState<ShownIdentity | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (fingerprint?: string) =>
      addPeer({
        base_url: baseUrl.trim(),
        transport,
        proxy_url: transport === 'socks5' ? proxyUrl.trim() : null,
        trusted_for_moderation: moderation,
        ...(fingerprint === undefined ? {} : { fingerprint }),
      }),
    onSuccess: (outcome) => {
      if ('shown' in outcome) return setShown(outcome.shown);
      setShown(null);
      setAdded(`Peer “${outcome.peer.nickname}” added.`);
      setBaseUrl('');
      setProxyUrl('');
      void queryClient.invalidateQueries({ queryKey: peerKeys.all });
    },
  });
  const fetchIdentity = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    setShown(null);
    add.mutate(undefined);
  };
  return (
    <form aria-label="Add a peer" onSubmit={fetchIdentity}>
      <TextInput
        label="Base URL"
        required
        maxLength={2048}
        placeholder="https://bbs.example or http://….onion"
        value={baseUrl}
        onChange={(e) => {
          setBaseUrl(e.target.value);
          setShown(null);
        }}
      />
      <div className="flex flex-wrap gap-x-4">
        <Field label="Transport">
          {(ids) => (
            <select
              {...ids}
              value={transport}
              onChange={(e) => setTransport(e.target.value as Transport)}
            >
              <option value="direct">direct</option>
              <option value="proxy">proxy (AXON_PROXY)</option>
              <option value="socks5">its own SOCKS5 proxy</option>
            </select>
          )}
        </Field>
        {transport === 'socks5' && (
          <div className="min-w-0 flex-1 basis-60">
            <TextInput
              label="SOCKS5 proxy"
              required
              placeholder="socks5h://127.0.0.1:9050"
              value={proxyUrl}
              onChange={(e) => setProxyUrl(e.target.value)}
            />
          </div>
        )}
      </div>
      <label className="mb-3 flex items-center gap-2">
        <input
          type="checkbox"
          checked={moderation}
          onChange={(e) => setModeration(e.target.checked)}
        />
        Also trust its moderation actions
      </label>
      <ErrorNotice error={add.error} />
      {added !== null && <Notice>{added}</Notice>}
      {shown === null ? (
        <Button type="submit" disabled={add.isPending}>
          {add.isPending ? 'Fetching…' : 'Fetch identity'}
        </Button>
      ) : (
        <div role="group" aria-label="Confirm the fingerprint" className="border border-amber p-3">
          <p>
            <strong>{shown.nickname}</strong> at {shown.base_url} shows the fingerprint:
          </p>
          <p className="my-2 text-lg">
            <Fingerprint value={shown.fingerprint} />
          </p>
          <p className="mb-2 text-sm">
            Compare it with the one its sysop gave you (by another channel). Add it only if every
            group matches.
          </p>
          <div className="flex flex-wrap gap-2">
            <Button disabled={add.isPending} onClick={() => add.mutate(shown.fingerprint)}>
              It matches: add this peer
            </Button>
            <Button variant="plain" onClick={() => setShown(null)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
    </form>
  );
}

export function FederationSection() {
  const peers = usePeers();
  return (
    <>
      <ErrorNotice error={peers.error} />
      {peers.isPending && <Loading what="Loading peers" />}
      {peers.data?.items.length === 0 && (
        <Empty>No peers yet. Add one below to share boards with it.</Empty>
      )}
      <ul aria-label="Peers" className="divide-y divide-line">
        {peers.data?.items.map((peer) => (
          <PeerRow key={peer.fingerprint} peer={peer} />
        ))}
      </ul>
      <h3 className="mt-6 mb-2 font-bold text-amber">Add a peer</h3>
      <AddPeerForm />
    </>
  );
}
