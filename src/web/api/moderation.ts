// Moderation: reports (made by any member, resolved by moderators), bans of users and keys,
// karma, the moderation log, and the actions peers sent. Every action lands in the modlog.
import { api } from './client';
import { queryKeys } from './keys';
import { usePages } from './pages';
import type {
  BannedPubkey,
  BulkResolution,
  BulkResolveBody,
  BannedUser,
  FederatedAction,
  KarmaBody,
  ModlogEntry,
  Page,
  Profile,
  ProfileCorrectionBody,
  PubkeyBanBody,
  Report,
  ReportStatus,
  ResolveBody,
  UserBanBody,
} from './types';

const LIST_PAGE_SIZE = 25;

const userPath = (username: string, action: 'ban' | 'unban' | 'karma') =>
  `/api/moderation/users/${encodeURIComponent(username.trim())}/${action}/`;

export const reportMessage = (messageId: string, reason: string) =>
  api<Report>(`/api/messages/${messageId}/report/`, { method: 'POST', body: { reason } });

export const resolveReport = (reportId: string, resolution: ResolveBody) =>
  api<Report>(`/api/moderation/reports/${reportId}/resolve/`, {
    method: 'POST',
    body: resolution,
  });

/** Several reports at once, each as resolveReport would; closed ones come back as skipped. */
export const resolveReports = (resolution: BulkResolveBody) =>
  api<BulkResolution>('/api/moderation/reports/resolve/', { method: 'POST', body: resolution });

export const banUser = (username: string, terms: UserBanBody) =>
  api<BannedUser>(userPath(username, 'ban'), { method: 'POST', body: terms });

export const unbanUser = (username: string) =>
  api<Profile>(userPath(username, 'unban'), { method: 'POST' });

export const changeKarma = (username: string, change: KarmaBody) =>
  api<Profile>(userPath(username, 'karma'), { method: 'POST', body: change });

export const banKey = (ban: PubkeyBanBody) =>
  api<BannedPubkey>('/api/moderation/banned_pubkeys/', { method: 'POST', body: ban });

export async function unbanKey(fingerprint: string): Promise<void> {
  await api(`/api/moderation/banned_pubkeys/${fingerprint}/`, { method: 'DELETE' });
}

export const fetchReports = (status: ReportStatus, cursor?: string) =>
  api<Page<Report>>('/api/moderation/reports/', {
    query: { status, cursor, limit: LIST_PAGE_SIZE },
  });

export const fetchBannedKeys = (cursor?: string) =>
  api<Page<BannedPubkey>>('/api/moderation/banned_pubkeys/', {
    query: { cursor, limit: LIST_PAGE_SIZE },
  });

export const fetchModlog = (cursor?: string) =>
  api<Page<ModlogEntry>>('/api/moderation/log/', { query: { cursor, limit: LIST_PAGE_SIZE } });

export const fetchFederatedActions = (cursor?: string) =>
  api<Page<FederatedAction>>('/api/moderation/federated_actions/', {
    query: { cursor, limit: LIST_PAGE_SIZE },
  });

/** Undoes here what a peer's applied action changed (the peer is not told). */
export const reverseFederatedAction = (id: string, reason: string) =>
  api<FederatedAction>(`/api/moderation/federated_actions/${id}/reverse/`, {
    method: 'POST',
    body: { reason },
  });

export const correctProfile = (correction: ProfileCorrectionBody) =>
  api<unknown>('/api/moderation/profile_corrections/', { method: 'POST', body: correction });

/** The moderation actions peers sent, newest first. */
export function useFederatedActions() {
  return usePages(queryKeys.federatedActions, fetchFederatedActions);
}

/** Reports with this status, a page at a time. */
export function useReports(status: ReportStatus) {
  return usePages(queryKeys.reports(status), (cursor) => fetchReports(status, cursor));
}

export function useBannedKeys() {
  return usePages(queryKeys.bannedKeys, fetchBannedKeys);
}

/** Every moderation action, newest first. */
export function useModlog() {
  return usePages(queryKeys.modlog, fetchModlog);
}
