// Everything a request, a CLI command or a background service needs, built once per process.
import type { Config } from './config.js';
import type { AxonDatabase } from './db/database.js';
import { deleteExpiredSessions, SessionTokens } from './modules/accounts/sessions.js';
import { AccountService } from './modules/accounts/service.js';
import { IgnoredPubkeys } from './modules/accounts/ignored-pubkeys.js';
import { AgentService } from './modules/accounts/agents.js';
import { BannedPubkeys } from './modules/moderation/banned-pubkeys.js';
import { FederationClient } from './modules/federation/client.js';
import { PeerChunkSource } from './modules/federation/chunk-client.js';
import { RemoteContent } from './modules/federation/remote-content.js';
import type { InstanceIdentity } from './modules/federation/identity.js';
import { ReplayCache } from './modules/federation/replay-cache.js';
import { FederationLog } from './modules/federation/log.js';
import { Inbox } from './modules/federation/inbox.js';
import {
  FederatedActions,
  instanceActionLogger,
  signAction,
} from './modules/federation/actions.js';
import { ConfigTransfer } from './modules/federation/config.js';
import { RemoteAuthors } from './modules/federation/remote-authors.js';
import { LiveRooms } from './modules/federation/live-rooms.js';
import { FederationDelivery } from './modules/federation/delivery.js';
import { profileToLog } from './modules/federation/profiles.js';
import { backfill } from './modules/federation/sync.js';
import { BoardHistory } from './modules/federation/history.js';
import { sendKeyChangeNotices } from './modules/federation/key-change.js';
import { FederationHealth } from './modules/federation/health.js';
import { fetcherOver } from './modules/federation/identity-fetch.js';
import { PeerRegistry } from './modules/federation/peers.js';
import type { InstanceKeys } from './secrets.js';
import { MessageService } from './modules/boards/messages.js';
import { MessageEdits } from './modules/boards/edits.js';
import { SearchService } from './modules/boards/search.js';
import { ReadPositions } from './modules/boards/read-positions.js';
import { BoardService } from './modules/boards/service.js';
import { ReportService } from './modules/moderation/reports.js';
import { PrivateMessageService } from './modules/private-messages/service.js';
import { NotificationService } from './modules/notifications/service.js';
import { PrivateMessageDelivery } from './modules/private-messages/delivery.js';
import { RemoteKeys } from './modules/private-messages/remote.js';
import { EventHub, postgresEventBridge, revocationGeneration } from './services/event-hub.js';
import { AppletService } from './modules/applets/service.js';
import { AppletDataService } from './modules/applets/data.js';
import { RoomStateService } from './modules/applets/room-state.js';
import { ChatService } from './modules/chat/service.js';
import { ContentService } from './modules/content/service.js';
import { RealtimeConnections } from './modules/realtime/connections.js';
import { People } from './modules/people/service.js';
import { PRESENCE_FLUSH_MS } from './modules/realtime/presence.js';
import { Realtime } from './modules/realtime/realtime.js';
import { databaseRightsChecks } from './modules/realtime/rights.js';
import { runRetention } from './services/retention.js';
import { JobClaims } from './services/job-claims.js';
import { RemoteCache } from './modules/federation/remote-cache.js';
import { periodicService, ServiceRegistry, sharedPeriodicService } from './services/registry.js';
import { WorkBudget } from './work-budget.js';
import { ATTEMPT_WINDOW_MS, AttemptCounters } from './http/rate-limits.js';

/** How often a SQLite server looks for rights changed by another process (the CLI). */
export const REVOCATION_POLL_MS = 1000;

export interface AppContext {
  config: Config;
  database: AxonDatabase;
  keys: InstanceKeys;
  identity: InstanceIdentity;
  accounts: AccountService;
  /** Backend-service accounts and their scoped API tokens (accounts/agents.ts). */
  agents: AgentService;
  ignoredPubkeys: IgnoredPubkeys;
  bannedPubkeys: BannedPubkeys;
  sessions: SessionTokens;
  services: ServiceRegistry;
  /** Background jobs shared by the processes: their claims, runs and failures. */
  jobs: JobClaims;
  boards: BoardService;
  messages: MessageService;
  /** Authors' edits of their messages, and every message's versions (boards/edits.ts). */
  edits: MessageEdits;
  hub: EventHub;
  realtime: Realtime;
  content: ContentService;
  chat: ChatService;
  applets: AppletService;
  appletData: AppletDataService;
  roomState: RoomStateService;
  search: SearchService;
  readPositions: ReadPositions;
  privateMessages: PrivateMessageService;
  /** What signed-in users are told of, and their live feed (notifications/service.ts). */
  notifications: NotificationService;
  reports: ReportService;
  /** The one outbound client for calls to peers (federation/client.ts). */
  federationClient: FederationClient;
  /** Content announced by peers, fetched chunk by chunk (federation/remote-content.ts). */
  remoteContent: RemoteContent;
  federationLog: FederationLog;
  inbox: Inbox;
  federatedActions: FederatedActions;
  configTransfer: ConfigTransfer;
  /** Authors of other instances as readers see them (federation/remote-authors.ts). */
  remoteAuthors: RemoteAuthors;
  /** Users' public profiles and who is online (people/service.ts). */
  people: People;
  liveRooms: LiveRooms;
  peers: PeerRegistry;
  federationHealth: FederationHealth;
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
  const jobs = new JobClaims(database);
  services.add(
    sharedPeriodicService(
      'session-cleanup',
      60 * 60 * 1000,
      () => deleteExpiredSessions(database.db),
      (e) => onServiceError('session-cleanup', e),
      jobs,
    ),
  );
  const attempts = new AttemptCounters(database);
  services.add(
    sharedPeriodicService(
      'attempt-cleanup',
      ATTEMPT_WINDOW_MS,
      () => attempts.prune(),
      (e) => onServiceError('attempt-cleanup', e),
      jobs,
    ),
  );
  const replays = new ReplayCache(database);
  services.add(
    sharedPeriodicService(
      'federation-nonce-cleanup',
      60 * 1000,
      () => replays.prune(),
      (e) => onServiceError('federation-nonce-cleanup', e),
      jobs,
    ),
  );
  const hub = new EventHub();
  if (config.database.dialect === 'postgres') {
    services.add(
      postgresEventBridge(config.database.url, hub, (e) => onServiceError('realtime-bridge', e)),
    );
  }
  const bannedPubkeys = new BannedPubkeys(database, hub);
  const boards = new BoardService(database, hub);
  const ignoredPubkeys = new IgnoredPubkeys(database);
  const onRealtimeError = (e: unknown) => onServiceError('realtime', e);
  const realtime = new Realtime(hub, database, {
    connections: new RealtimeConnections(
      hub,
      config.realtime,
      databaseRightsChecks(database, boards),
      onRealtimeError,
    ),
    ignorersOf: (fingerprint) => ignoredPubkeys.ignorersOf(fingerprint),
    onError: onRealtimeError,
    pageCacheBytes: config.pageCacheBytes,
  });
  if (config.database.dialect === 'sqlite') {
    // No NOTIFY on SQLite: the CLI's bans and logouts move a generation counter that this polls.
    let seen: number | undefined;
    services.add(
      periodicService(
        'revocation-poll',
        REVOCATION_POLL_MS,
        async () => {
          const now = await revocationGeneration(database.db);
          if (seen !== undefined && now !== seen) await realtime.connections.recheckAll();
          seen = now;
        },
        (e) => onServiceError('revocation-poll', e),
      ),
    );
  }
  const content = new ContentService(
    database,
    identity,
    boards,
    config.chunkStoreDir,
    config.uploadQuota,
  );
  const federationLog = new FederationLog(database, realtime);
  const messages = new MessageService(
    database,
    boards,
    bannedPubkeys,
    realtime,
    content,
    federationLog,
  );
  services.add(
    sharedPeriodicService(
      'retention',
      60 * 60 * 1000,
      async () => {
        const result = await runRetention(database, Date.now(), { content });
        // Every process's page caches hear it (announce crosses processes; this runs in one).
        if (result.messagesDeleted > 0) await realtime.announce({ kind: 'retention' });
      },
      (e) => onServiceError('retention', e),
      jobs,
    ),
  );
  const chat = new ChatService(database, messages, boards, realtime);
  const edits = new MessageEdits(database, messages, boards, realtime, federationLog);
  services.add(
    periodicService(
      'presence',
      PRESENCE_FLUSH_MS,
      () => realtime.presence.flush(),
      (e) => onServiceError('presence', e),
    ),
  );
  const accounts = new AccountService(database, sessions, new WorkBudget(config.work), realtime);
  accounts.profileChanged = profileToLog(federationLog);
  const history = new BoardHistory(database, federationLog, config.federation.backfill);
  // Started at once (history older than the sharing goes to the log), and again after a restart.
  services.add(
    periodicService(
      'federation-backfill',
      60_000,
      () => history.run(),
      (e) => onServiceError('federation-backfill', e),
    ),
  );
  boards.sharingChanged = async (before, after) => {
    if (after.federationRoomId !== null && after.federationRoomId !== before?.federationRoomId) {
      history.run().catch((e: unknown) => onServiceError('federation-backfill', e));
    }
    const added = await backfill(database.db, before, after, config.federation.backfill);
    // Number 0 on the federation channel: deliverers (in every process) look at peers and cursors.
    if (added.length > 0) await realtime.announce({ kind: 'federation' });
  };
  const federationClient = new FederationClient(identity, {
    proxy: config.proxy,
    ...config.federation,
  });
  // After `axon restore --new-identity`: each peer is told of the new key (federation/key-change.ts).
  services.add(
    periodicService(
      'federation-key-change',
      10_000,
      () => sendKeyChangeNotices(database, federationClient),
      (e) => onServiceError('federation-key-change', e),
    ),
  );
  const remoteContent = new RemoteContent(
    database,
    content,
    identity,
    new PeerChunkSource(federationClient),
    config.remoteContent,
    (e) => onServiceError('remote-content', e),
  );
  services.add(remoteContent);
  const remoteCache = new RemoteCache(database, content, config.remoteContent, () =>
    remoteContent.wake(),
  );
  content.remoteReads = remoteCache;
  services.add(
    sharedPeriodicService(
      'remote-cache-eviction',
      5 * 60 * 1000,
      () => remoteCache.evict(),
      (e) => onServiceError('remote-cache-eviction', e),
      jobs,
    ),
  );
  const federationHealth = new FederationHealth(database);
  federationHealth.setChunkFetchesSource((peer) => remoteContent.pendingChunksCounted(peer));
  const inbox = new Inbox(
    database,
    messages,
    bannedPubkeys,
    federationLog,
    (peer, manifests) => remoteContent.enqueue(peer, manifests),
    config.federation.objectsPerMinute,
  );
  const logInstanceAction = instanceActionLogger(federationLog, identity.fingerprint);
  bannedPubkeys.federate = logInstanceAction;
  const federatedActions = new FederatedActions(database, messages, hub, logInstanceAction);
  inbox.actions = federatedActions;
  inbox.edits = edits;
  messages.signModeration = (moderator, key, action, reason) =>
    signAction(moderator, key, identity.fingerprint, action, reason);
  const roomState = new RoomStateService(database, realtime);
  const liveRooms = new LiveRooms(
    database,
    messages,
    roomState,
    bannedPubkeys,
    federationLog,
    federationClient,
    (e) => onServiceError('live-rooms', e),
  );
  inbox.live = liveRooms;
  realtime.presence.onFlushed = (rows) => {
    liveRooms.reportPresence(rows).catch((e: unknown) => onServiceError('live-rooms', e));
  };
  services.add(
    new FederationDelivery(
      database,
      federationLog,
      inbox,
      realtime,
      federationClient,
      { inFlight: config.federation.inFlight, batchObjects: 100, batchBytes: 1024 * 1024 },
      (e) => onServiceError('federation-delivery', e),
    ),
  );
  const remoteKeys = new RemoteKeys(database, federationClient);
  const pmDelivery = new PrivateMessageDelivery(database, federationClient, remoteKeys, (e) =>
    onServiceError('pm-delivery', e),
  );
  services.add(pmDelivery);
  const privateMessages = new PrivateMessageService(database, content, {
    keys: remoteKeys,
    delivery: pmDelivery,
  });
  const notifications = new NotificationService(database, boards, realtime);
  messages.onStored = async (trx, board, message) => {
    const told = await notifications.forMessage(trx, board, message);
    return () => notifications.publish(told);
  };
  privateMessages.onLetter = async (trx, letter) => {
    const told = await notifications.forPrivateMessage(trx, letter);
    return () => notifications.publish(told);
  };
  accounts.rolesChanged = async (trx, userId) => {
    const told = await notifications.changed(trx, userId);
    return () => notifications.publish([told]);
  };
  return {
    config,
    database,
    keys,
    identity,
    sessions,
    services,
    jobs,
    accounts,
    agents: new AgentService(database, keys.agentSealKey, attempts, realtime),
    ignoredPubkeys,
    bannedPubkeys,
    boards,
    messages,
    edits,
    hub,
    realtime,
    content,
    chat,
    applets: new AppletService(database),
    appletData: new AppletDataService(database, content),
    roomState,
    search: new SearchService(database, boards),
    privateMessages,
    notifications,
    readPositions: new ReadPositions(database, boards, messages),
    reports: new ReportService(database, messages, boards),
    federationClient,
    remoteContent,
    federationLog,
    inbox,
    federatedActions,
    configTransfer: new ConfigTransfer(database, content, hub, config, identity),
    remoteAuthors: new RemoteAuthors(database, boards, bannedPubkeys),
    people: new People(database, boards, bannedPubkeys, realtime.presence),
    liveRooms,
    peers: new PeerRegistry(database, hub, fetcherOver(federationClient), identity.fingerprint),
    federationHealth,
  };
}
