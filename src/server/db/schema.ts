// Row types of every table, as Kysely sees them. Times are Unix milliseconds (int8 parsed to
// number on PostgreSQL), booleans read back as 0/1 on SQLite: rows go through the modules' mappers.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export type Bool = boolean | number;

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  nickname: string;
  timezone: string;
  pubkey: string;
  fingerprint: string;
  /** Argon2id parameters and salt, JSON: {"m","t","p","salt"}. */
  password_kdf: string;
  /** HKDF-derived verifier from the Argon2id output, base64. */
  password_verifier: string;
  /** PKCS#8 private key sealed under the password-derived key, base64 (nonce‖ciphertext‖tag). */
  private_key_by_password: string;
  /** The same key sealed under the recovery key. */
  private_key_by_recovery: string;
  avatar: Buffer | null;
  avatar_mime: string | null;
  avatar_hash: string | null;
  karma: Generated<number>;
  is_sysop: Generated<Bool>;
  is_moderator: Generated<Bool>;
  is_agent: Generated<Bool>;
  is_banned: Generated<Bool>;
  banned_until: number | null;
  ban_reason: string | null;
  can_post: Generated<Bool>;
  can_upload: Generated<Bool>;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the session secret carried in the token, hex. */
  id_hash: string;
  user_id: string;
  /** The user's private key re-sealed under a key derived from the session secret. */
  private_key_by_session: string;
  created_at: number;
  expires_at: number;
}

export interface InstanceIdentityTable {
  id: number;
  pubkey: string;
  fingerprint: string;
  private_key_sealed: string;
  nickname: string;
  created_at: number;
}

export interface IgnoredPubkeysTable {
  user_id: string;
  fingerprint: string;
  created_at: number;
}

export interface BannedPubkeysTable {
  fingerprint: string;
  pubkey: string | null;
  reason: string;
  banned_by: string | null;
  created_at: number;
  expires_at: number | null;
}

export type AccessLevel = 'public' | 'members' | 'moderators' | 'sysops';

export interface BoardsTable {
  id: string;
  name: string;
  name_lower: string;
  description: string;
  is_realtime: Generated<Bool>;
  federation_room_id: string | null;
  /** JSON array of peer fingerprints. */
  trusted_peers: Generated<string>;
  /** null keeps messages for good. */
  message_retention_days: number | null;
  read_access: Generated<string>;
  post_access: Generated<string>;
  is_archived: Generated<Bool>;
  position: Generated<number>;
  /** The last event number given out on this board. */
  event_seq: Generated<number>;
  /** 'activity' (threads by latest post) or 'created'. */
  thread_order: Generated<string>;
  /** The peer whose board created the shared room (its single writer); null: this instance. */
  federation_home: string | null;
  created_at: number;
  updated_at: number;
}

export interface PubkeysTable {
  fingerprint: string;
  pem: string;
  first_seen: number;
}

export interface MessagesTable {
  seq: Generated<number>;
  id: string;
  board_id: string;
  /** The `board` value inside the signed object. */
  board_ref: string;
  parent_id: string | null;
  thread_id: string;
  author_id: string | null;
  author_fingerprint: string;
  author_nickname: string;
  subject: string;
  body: string;
  /** JSON array of {content_hash, size, filename, mime_type}. */
  attachments: Generated<string>;
  signature: string;
  is_event: Generated<Bool>;
  event_subject: string | null;
  /** This message's number on its board, in commit order: the event cursor. */
  board_seq: number | null;
  /** null for a local author; else the instance (peer nickname) the message came from. */
  author_instance: string | null;
  created_at: number;
  /** Set when an opening post with replies was deleted: it stays as a tombstone. */
  deleted_at: ColumnType<number | null, number | null | undefined, number | null>;
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** On an opening post: the seq of its thread's latest message (kept by triggers). */
  bumped_seq: ColumnType<number | null, never, never>;
  /** The author is a local agent (a bot): shown as one wherever the message shows. */
  author_is_agent: Generated<Bool>;
  /** The latest edit's time and object id; null while the message is as first posted (0023). */
  edited_at: ColumnType<number | null, number | null | undefined, number | null>;
  edit_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Every signed version of an edited message, oldest first (migration 0023). */
export interface MessageVersionsTable {
  message_id: string;
  /** 1: as first posted; then one per edit, in the order they arrived. */
  version: number;
  /** The edit object's id; null for version 1. */
  edit_id: string | null;
  subject: string;
  body: string;
  signature: string;
  created_at: number;
}

/** Where a signed-in reader stopped reading a thread (migration 0020). */
export interface ReadPositionsTable {
  user_id: string;
  thread_id: string;
  /** The seq of the latest post of the thread the reader has seen. */
  read_seq: number;
  updated_at: number;
}

export interface PrivateMessagesTable {
  id: string;
  sender_id: string | null;
  recipient_id: string | null;
  sender_fingerprint: string;
  sender_nickname: string;
  recipient_fingerprint: string;
  ciphertext: string;
  envelopes: string;
  signature: string;
  created_at: number;
  read_at: number | null;
  sender_deleted: Generated<Bool>;
  recipient_deleted: Generated<Bool>;
  /** The peer the other party lives on; null when both are local (migration 0017). */
  peer_fingerprint: string | null;
  recipient_nickname: string | null;
  delivery_state: PmDeliveryState | null;
  delivery_error: string | null;
}

export type PmDeliveryState = 'pending' | 'delivered' | 'refused';

/** A signed private message waiting for its recipient's instance (private-messages/remote.ts). */
export interface PmOutboxTable {
  pm_id: string;
  peer_fingerprint: string;
  object: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  last_error: string | null;
  leased_until: number | null;
  created_at: number;
}

/** A remote user's public key as its instance answered it, by the name asked for. */
export interface RemoteUserKeysTable {
  peer_fingerprint: string;
  name: string;
  username: string;
  nickname: string;
  pubkey: string;
  fingerprint: string;
  fetched_at: number;
}

export interface ReportsTable {
  id: string;
  message_id: string;
  board_id: string;
  reporter_id: string;
  reason: string;
  snapshot: string;
  status: Generated<string>;
  resolved_by: string | null;
  resolution_note: string | null;
  resolved_at: number | null;
  created_at: number;
}

export interface ModlogTable {
  id: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  reason: string;
  details: Generated<string>;
  created_at: number;
}

export interface AppletsTable {
  id: string;
  name: string;
  description: Generated<string>;
  event_board_id: string;
  owner_id: string | null;
  created_at: number;
  code_hash: string | null;
  /** JSON object. */
  parameters: Generated<string>;
  is_debug_mode: Generated<Bool>;
  /** JSON array of media types. */
  handles_mime_types: Generated<string>;
  status: Generated<AppletStatus>;
  category_name: string | null;
  /** Bytes of the code (null for applets registered before sizes were kept). */
  code_size: number | null;
  /** Why the applet was approved or rejected, as the reviewer said. */
  review_reason: string | null;
  reviewed_at: number | null;
}

export type AppletStatus = 'pending' | 'approved' | 'rejected';

/** One (applet, user)'s data: a BitSync object, encrypted like every stored content. */
export interface AppletDataTable {
  applet_id: string;
  user_id: string;
  content_hash: string;
  size: number;
  updated_at: number;
}

/** One (applet, user)'s high-score entry, as the applet reported it (self-reported). */
export interface HighScoresTable {
  id: string;
  applet_id: string;
  user_id: string;
  score: number;
  wins: number;
  losses: number;
  draws: number;
  level: number;
  updated_at: number;
}

export interface RoomPresenceTable {
  board_id: string;
  user_id: string;
  last_seen: number;
}

/** A peer's user seen in a shared room (the peer reports it); shown as `nickname@peer`. */
export interface RemotePresenceTable {
  board_id: string;
  fingerprint: string;
  nickname: string;
  peer_fingerprint: string;
  last_seen: number;
}

export interface RoomStateTable {
  room_id: string;
  version: number;
  /** JSON. */
  state: string;
  updated_by: string | null;
  updated_at: number;
}

export interface ManifestsTable {
  content_hash: string;
  /** The BitSync manifest, JSON (with every key envelope). */
  manifest: string;
  size: number;
  created_at: number;
}

export interface AttachmentsTable {
  id: string;
  content_hash: string;
  filename: string;
  mime_type: string;
  size: number;
  uploader_id: string | null;
  created_at: number;
}

/** applet: an applet's code and its users' data; applet_asset: its asset package. */
export type ContentRefKind = 'message' | 'private_message' | 'applet' | 'applet_asset';

export interface ContentRefsTable {
  content_hash: string;
  kind: ContentRefKind;
  ref_id: string;
  created_at: number;
}

/** A background job run once across processes (services/job-claims.ts). */
export interface BackgroundJobsTable {
  name: string;
  due_at: Generated<number>;
  runs: Generated<number>;
  failures: Generated<number>;
  last_started_at: number | null;
  last_finished_at: number | null;
  last_error: string | null;
}

/** Login or recovery attempts on one account name in the current minute; the key is hashed. */
export interface AttemptCountersTable {
  key: string;
  window_start: number;
  attempts: number;
}

export type PeerTransport = 'direct' | 'proxy' | 'socks5';

export interface PeersTable {
  fingerprint: string;
  /** PEM SubjectPublicKeyInfo, as in the identity document. */
  pubkey: string;
  base_url: string;
  nickname: string;
  trusted: Generated<Bool>;
  trusted_for_moderation: Generated<Bool>;
  transport: Generated<PeerTransport>;
  proxy_url: string | null;
  pending_pubkey: string | null;
  pending_fingerprint: string | null;
  max_attachment_bytes: number | null;
  bytes_per_day: number | null;
  objects_per_minute: number | null;
  created_at: number;
  updated_at: number;
}

export interface FederationNoncesTable {
  key_fingerprint: string;
  nonce: string;
  seen_at: number;
}

export interface FederationLogTable {
  seq: Generated<number>;
  object_id: string;
  type: string;
  room_id: string | null;
  received_from: string | null;
  object: string;
  manifests: string | null;
  size: number;
  created_at: number;
  /** Fingerprint of the object's author (profile updates go where the author posted). */
  author_fingerprint: string | null;
  /** The instance the object was made on, as the peer it came from vouches; null: made here. */
  origin: string | null;
}

/** A board's history older than its sharing, going to the log: messages with seq in (next, until]. */
export interface FederationBackfillTable {
  board_id: string;
  room_id: string;
  next_seq: number;
  until_seq: number;
  created_at: number;
}

/** A signed key-change notice this instance (restored with a new key) owes a peer. */
export interface KeyChangeNoticesTable {
  peer_fingerprint: string;
  notice: string;
  created_at: number;
  sent_at: number | null;
  attempts: Generated<number>;
  last_error: string | null;
}

/** A remote author's latest signed profile (nickname, avatar). */
export interface RemoteAuthorsTable {
  fingerprint: string;
  nickname: string;
  instance: string;
  avatar: Buffer | null;
  avatar_mime: string | null;
  avatar_hash: string | null;
  profile_at: number;
  updated_at: number;
}

export interface PeerDeliveryTable {
  peer_fingerprint: string;
  acked_seq: Generated<number>;
  pulled_cursor: string | null;
  failures: Generated<number>;
  next_attempt_at: Generated<number>;
  leased_by: string | null;
  leased_until: number | null;
  last_success_at: number | null;
  last_error_at: number | null;
  last_error: string | null;
  objects_out: Generated<number>;
  bytes_out: Generated<number>;
  objects_in: Generated<number>;
  bytes_in: Generated<number>;
  refused_in: Generated<number>;
  /** Start (ms) of the peer's current one-minute inbox window, and the objects it sent in it. */
  inbox_window_start: Generated<number>;
  inbox_window_objects: Generated<number>;
}

/** A deletion that arrived before its message: applied when the message arrives (inbox.ts). */
export interface FederationPendingDeletesTable {
  id: string;
  object_id: string;
  peer_fingerprint: string;
  author_fingerprint: string;
  object: string;
  received_at: number;
}

/** Which content each chunk belongs to: a peer's chunk request is checked through it. */
export interface ContentChunksTable {
  chunk_hash: string;
  content_hash: string;
}

// 'evicted': was complete, its blobs dropped from the cache of remote content; fetched again when
// someone asks for it.
export type RemoteFetchState =
  'pending' | 'unreachable' | 'failed' | 'refused' | 'complete' | 'evicted';

/** A durable job fetching the chunks of content a peer announced (remote-content.ts). */
export interface RemoteFetchesTable {
  content_hash: string;
  manifest: string;
  size: number;
  origin_peer: string;
  /** JSON array of peer fingerprints. */
  source_peers: string;
  state: RemoteFetchState;
  chunks_total: number;
  chunks_done: Generated<number>;
  bytes_fetched: Generated<number>;
  attempts: Generated<number>;
  next_attempt_at: Generated<number>;
  last_error: string | null;
  leased_by: string | null;
  leased_until: number | null;
  created_at: number;
  updated_at: number;
  /** When a reader last opened the content (Unix ms; null: never since it arrived). */
  last_read_at: Generated<number | null>;
}

export type FederatedActionStatus = 'applied' | 'refused' | 'reversed';

/** A FederatedAction a peer sent (migration 0018): applied, refused or reversed here. */
export interface FederatedActionsTable {
  id: string;
  peer_fingerprint: string;
  peer_nickname: string;
  moderator_fingerprint: string;
  moderator_nickname: string;
  kind: string;
  target: string;
  reason: string;
  status: FederatedActionStatus;
  refusal: string | null;
  object: string;
  previous: string | null;
  reversed_by: string | null;
  reversed_at: number | null;
  created_at: number;
}

/** An agent's private key, sealed under the instance secret (accounts/agents.ts). */
export interface AgentKeysTable {
  user_id: string;
  private_key_sealed: string;
  created_at: number;
}

/** An agent's API token: only the hash of its secret, and the boards and applets it may post to. */
export interface AgentTokensTable {
  id: string;
  user_id: string;
  secret_hash: string;
  label: string;
  /** JSON array of board ids. */
  boards: string;
  /** JSON array of applet ids. */
  applets: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** What a user is told of (0022_notifications). */
export type NotificationKind = 'reply' | 'thread_reply' | 'mention' | 'private_message';

export interface NotificationsTable {
  /** UUIDv7. */
  id: string;
  user_id: string;
  kind: NotificationKind;
  message_id: string | null;
  private_message_id: string | null;
  board_id: string | null;
  thread_id: string | null;
  actor_fingerprint: string;
  actor_nickname: string;
  actor_id: string | null;
  subject: string;
  created_at: number;
  read_at: number | null;
}

/** A user's own choice on a thread; without a row, a user watches the threads they opened. */
export interface ThreadWatchesTable {
  user_id: string;
  thread_id: string;
  watching: Bool;
  created_at: number;
}

/** Moves with every change of what the user is told: the live feed's cursor. */
export interface NotificationVersionsTable {
  user_id: string;
  version: number;
}

export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  instance_identity: InstanceIdentityTable;
  ignored_pubkeys: IgnoredPubkeysTable;
  banned_pubkeys: BannedPubkeysTable;
  boards: BoardsTable;
  pubkeys: PubkeysTable;
  messages: MessagesTable;
  private_messages: PrivateMessagesTable;
  reports: ReportsTable;
  modlog: ModlogTable;
  applets: AppletsTable;
  applet_data: AppletDataTable;
  high_scores: HighScoresTable;
  room_presence: RoomPresenceTable;
  remote_presence: RemotePresenceTable;
  room_state: RoomStateTable;
  manifests: ManifestsTable;
  attachments: AttachmentsTable;
  content_refs: ContentRefsTable;
  attempt_counters: AttemptCountersTable;
  background_jobs: BackgroundJobsTable;
  peers: PeersTable;
  federation_nonces: FederationNoncesTable;
  federation_log: FederationLogTable;
  peer_delivery: PeerDeliveryTable;
  federation_pending_deletes: FederationPendingDeletesTable;
  content_chunks: ContentChunksTable;
  remote_fetches: RemoteFetchesTable;
  remote_authors: RemoteAuthorsTable;
  pm_outbox: PmOutboxTable;
  remote_user_keys: RemoteUserKeysTable;
  federated_actions: FederatedActionsTable;
  federation_backfill: FederationBackfillTable;
  key_change_notices: KeyChangeNoticesTable;
  agent_keys: AgentKeysTable;
  agent_tokens: AgentTokensTable;
  notifications: NotificationsTable;
  thread_watches: ThreadWatchesTable;
  notification_versions: NotificationVersionsTable;
  message_versions: MessageVersionsTable;
  read_positions: ReadPositionsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type PeerRow = Selectable<PeersTable>;
