// The one set of query keys: every cached answer of the API is named here, so a screen that
// changes something invalidates exactly the answers that changed (a prefix covers its children).
export const queryKeys = {
  profile: ['profile'],
  identity: ['identity'],
  contentLimits: ['content-limits'],
  contentState: (hash: string) => ['content-state', hash],
  boards: ['boards'],
  allBoards: ['boards', 'all'],
  /** A board and, under it, its pages of messages. */
  board: (boardId: string) => ['board', boardId],
  boardMessages: (boardId: string, cursor: string | undefined, all: boolean) => [
    'board',
    boardId,
    'messages',
    cursor,
    all,
  ],
  threads: ['thread'],
  thread: (messageId: string) => ['thread', messageId],
  remoteAuthor: (fingerprint: string) => ['remote-author', fingerprint],
  search: (q: string, cursor: string | undefined) => ['search', q, cursor],
  privateMessages: ['pm'],
  box: (box: string, cursor: string | undefined) => ['pm', box, cursor],
  unread: ['pm', 'unread'],
  privateMessage: (id: string) => ['pm', 'one', id],
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
} as const;
