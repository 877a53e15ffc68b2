// Everything a request, a CLI command or a background service needs, built once per process.
import type { Config } from './config.js';
import type { AxonDatabase } from './db/database.js';
import { deleteExpiredSessions, SessionTokens } from './modules/accounts/sessions.js';
import { AccountService } from './modules/accounts/service.js';
import { IgnoredPubkeys } from './modules/accounts/ignored-pubkeys.js';
import { BannedPubkeys } from './modules/moderation/banned-pubkeys.js';
import type { InstanceIdentity } from './modules/federation/identity.js';
import type { InstanceKeys } from './secrets.js';
import { MessageService } from './modules/boards/messages.js';
import { SearchService } from './modules/boards/search.js';
import { BoardService } from './modules/boards/service.js';
import { ReportService } from './modules/moderation/reports.js';
import { PrivateMessageService } from './modules/private-messages/service.js';
import { EventHub, postgresEventBridge } from './services/event-hub.js';
import { PageCache } from './http/page-cache.js';
import { AppletService } from './modules/applets/service.js';
import { AppletDataService } from './modules/applets/data.js';
import { RoomStateService } from './modules/applets/room-state.js';
import { ChatService, PRESENCE_FLUSH_MS } from './modules/chat/service.js';
import { ContentService } from './modules/content/service.js';
import { parseChannel } from './modules/realtime/channels.js';
import { RealtimeConnections } from './modules/realtime/connections.js';
import { Realtime } from './modules/realtime/realtime.js';
import { databaseRightsChecks } from './modules/realtime/rights.js';
import { runRetention } from './services/retention.js';
import { periodicService, ServiceRegistry } from './services/registry.js';
import { WorkBudget } from './work-budget.js';
import { ATTEMPT_WINDOW_MS, AttemptCounters } from './http/rate-limits.js';

export interface AppContext {
  config: Config;
  database: AxonDatabase;
  keys: InstanceKeys;
  identity: InstanceIdentity;
  accounts: AccountService;
  ignoredPubkeys: IgnoredPubkeys;
  bannedPubkeys: BannedPubkeys;
  sessions: SessionTokens;
  services: ServiceRegistry;
  boards: BoardService;
  messages: MessageService;
  hub: EventHub;
  realtime: Realtime;
  pageCache: PageCache;
  content: ContentService;
  chat: ChatService;
  applets: AppletService;
  appletData: AppletDataService;
  roomState: RoomStateService;
  search: SearchService;
  privateMessages: PrivateMessageService;
  reports: ReportService;
}

export function createContext(
  config: Config,
  database: AxonDatabase,
  keys: InstanceKeys,
  identity: InstanceIdentity,
  onServiceError: (service: string, error: unknown) => void = () => undefined,
): AppContext {
  const sessions = new SessionTokens(keys.tokenKey);
  const services = new ServiceRegistry();
  services.add(
    periodicService(
      'session-cleanup',
      60 * 60 * 1000,
      () => deleteExpiredSessions(database.db),
      (e) => onServiceError('session-cleanup', e),
    ),
  );
  const attempts = new AttemptCounters(database);
  services.add(
    periodicService(
      'attempt-cleanup',
      ATTEMPT_WINDOW_MS,
      () => attempts.prune(),
      (e) => onServiceError('attempt-cleanup', e),
    ),
  );
  const hub = new EventHub();
  const pageCache = new PageCache(2000, config.pageCacheBytes);
  // Posts and deletions announce their board; anything else announced (bans, retention) may change
  // what any page shows.
  hub.watchAll((name) => {
    const channel = parseChannel(name);
    if (channel?.kind === 'board') pageCache.invalidateBoard(channel.boardId);
    else if (channel?.kind !== 'room') pageCache.clear();
  });
  if (config.database.dialect === 'postgres') {
    services.add(
      postgresEventBridge(config.database.url, hub, (e) => onServiceError('realtime-bridge', e)),
    );
  }
  const bannedPubkeys = new BannedPubkeys(database, hub);
  const boards = new BoardService(database, hub);
  const realtime = new Realtime(
    hub,
    database,
    new RealtimeConnections(hub, config.realtime, databaseRightsChecks(database, boards), (e) =>
      onServiceError('realtime', e),
    ),
  );
  const content = new ContentService(
    database,
    identity,
    boards,
    config.chunkStoreDir,
    config.uploadQuota,
  );
  const messages = new MessageService(database, boards, bannedPubkeys, realtime, content);
  services.add(
    periodicService(
      'retention',
      60 * 60 * 1000,
      async () => {
        const result = await runRetention(database, Date.now(), { content });
        if (result.messagesDeleted > 0) realtime.publish({ kind: 'retention' }, 0);
      },
      (e) => onServiceError('retention', e),
    ),
  );
  const chat = new ChatService(database, messages, boards, hub);
  services.add(
    periodicService(
      'presence',
      PRESENCE_FLUSH_MS,
      () => chat.flushPresence(),
      (e) => onServiceError('presence', e),
    ),
  );
  return {
    config,
    database,
    keys,
    identity,
    sessions,
    services,
    accounts: new AccountService(database, sessions, new WorkBudget(config.work), realtime),
    ignoredPubkeys: new IgnoredPubkeys(database),
    bannedPubkeys,
    boards,
    messages,
    hub,
    realtime,
    pageCache,
    content,
    chat,
    applets: new AppletService(database),
    appletData: new AppletDataService(database, content),
    roomState: new RoomStateService(database, realtime),
    search: new SearchService(database, boards),
    privateMessages: new PrivateMessageService(database, content),
    reports: new ReportService(database, messages, boards),
  };
}
