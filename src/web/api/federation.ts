// The peer registry for the admin Federation screen: the peers with their health, and the sysop's
// changes to them (add after confirming the fingerprint, trust, re-key, remove).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { z } from 'zod';
import type { Peer as PeerSchema } from '../../server/modules/federation/peer-schema';
import { api, ApiError } from './client';

export type Peer = z.output<typeof PeerSchema>;
export type PeerState = Peer['health']['state'];
export type Transport = Peer['transport'];

export const peerKeys = { all: ['federation', 'peers'] } as const;

/** Every peer (the registry holds at most a few hundred; the first 100 are shown). */
export function usePeers() {
  return useQuery({
    queryKey: peerKeys.all,
    queryFn: () => api<{ items: Peer[] }>('/api/federation/peers/', { query: { limit: 100 } }),
    refetchInterval: 30_000,
  });
}

export interface NewPeer {
  base_url: string;
  transport: Transport;
  proxy_url: string | null;
  trusted_for_moderation: boolean;
  /** Absent: only fetch and show the identity (the server answers PEER_CONFIRMATION_REQUIRED). */
  fingerprint?: string;
}

/** What the peer showed when asked without a fingerprint, for the sysop to compare. */
export interface ShownIdentity {
  fingerprint: string;
  nickname: string;
  base_url: string;
}

/**
 * Adds a peer. Without a fingerprint the server stores nothing and shows the identity it fetched:
 * that comes back as `{ shown }` for the sysop to confirm; with one, as `{ peer }`.
 */
export async function addPeer(input: NewPeer): Promise<{ shown: ShownIdentity } | { peer: Peer }> {
  try {
    return { peer: await api<Peer>('/api/federation/peers/', { method: 'POST', body: input }) };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'PEER_CONFIRMATION_REQUIRED')
      return { shown: error.details as unknown as ShownIdentity };
    throw error;
  }
}

export type PeerPatch = Partial<
  Pick<Peer, 'trusted' | 'trusted_for_moderation' | 'transport' | 'proxy_url' | 'nickname'>
>;

const peerPath = (fingerprint: string, action = '') =>
  `/api/federation/peers/${fingerprint}/${action}`;

/** The changes a sysop makes to one peer; each refreshes the list when it lands. */
export function usePeerActions(fingerprint: string) {
  const queryClient = useQueryClient();
  const onSuccess = () => void queryClient.invalidateQueries({ queryKey: peerKeys.all });
  return {
    patch: useMutation({
      mutationFn: (patch: PeerPatch) =>
        api<Peer>(peerPath(fingerprint), { method: 'PATCH', body: patch }),
      // The answer is the peer as saved: shown at once, so a ticked box does not flick back.
      onSuccess: (saved) =>
        queryClient.setQueryData<{ items: Peer[] }>(peerKeys.all, (data) =>
          data === undefined
            ? data
            : {
                ...data,
                items: data.items.map((p) => (p.fingerprint === saved.fingerprint ? saved : p)),
              },
        ),
    }),
    refresh: useMutation({
      mutationFn: () =>
        api<{ key_changed: boolean; peer: Peer }>(peerPath(fingerprint, 'refresh/'), {
          method: 'POST',
        }),
      onSuccess,
    }),
    acceptKey: useMutation({
      mutationFn: (next: string) =>
        api<Peer>(peerPath(fingerprint, 'accept_key/'), {
          method: 'POST',
          body: { fingerprint: next },
        }),
      onSuccess,
    }),
    remove: useMutation({
      mutationFn: () => api<{ removed: string }>(peerPath(fingerprint), { method: 'DELETE' }),
      onSuccess,
    }),
  };
}
