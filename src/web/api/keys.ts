// The one set of query keys: every cached answer of the API is named here, so a screen that
// changes something invalidates exactly the answers that changed (a prefix covers its children).
import type { SearchFilters } from './search';

export const queryKeys = {
  profile: ['profile'],
  identity: ['identity'],
  contentLimits: ['content-limits'],
  contentState: (hash: string) => ['content-state', hash],
  boards: ['boards'],
  allBoards: ['boards', 'all'],
  /** A board and, under it, its pages of messages. */
  board: (boardId: string) => ['board', boardId],
  boardMessages: (boardId: string, page: number, all: boolean) => [
    'board',
    boardId,
    'messages',
    page,
    all,
  ],
  /** A signed-in reader's unread posts in some threads. */
  readPositions: (threadIds: readonly string[]) => ['read-positions', ...threadIds],
  threads: ['thread'],
  thread: (messageId: string) => ['thread', messageId],
  threadPage: (messageId: string, page: number | 'message') => ['thread', messageId, page],
  remoteAuthor: (fingerprint: string) => ['remote-author', fingerprint],
  search: (q: string, filters: SearchFilters, cursor: string | undefined) => [
    'search',
    q,
    filters,
    cursor,
  ],
  privateMessages: ['pm'],
  box: (box: string, cursor: string | undefined) => ['pm', box, cursor],
  unread: ['pm', 'unread'],
  privateMessage: (id: string) => ['pm', 'one', id],
  conversations: (cursor: string | undefined) => ['pm', 'conversations', cursor],
  conversation: (fingerprint: string, cursor: string | undefined) => [
    'pm',
    'with',
    fingerprint,
    cursor,
  ],
  person: (fingerprint: string) => ['person', fingerprint],
  online: ['people', 'online'],
  presence: ['chat', 'presence'],
  applets: ['applets'],
  adminUsers: ['admin', 'users'],
  modlog: ['moderation', 'log'],
  bannedKeys: ['moderation', 'banned-keys'],
  allReports: ['moderation', 'reports'],
  reports: (status: string) => ['moderation', 'reports', status],
  /** The notifications list; the live feed invalidates it when it changes. */
  notifications: ['notifications'],
  watch: (messageId: string) => ['watch', messageId],
  federatedActions: ['moderation', 'federated-actions'],
} as const;
