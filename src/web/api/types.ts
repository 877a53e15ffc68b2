// The API's shapes as the web client sees them, taken from the modules' zod schemas (schema.ts;
// type-only imports: nothing of the server reaches the bundle) and src/shared, so a change there
// is a type error here. Never from a route file. Answers are z.output (what the server sends);
// request bodies are z.input (what the server accepts, defaults still optional).
import type { z } from 'zod';
import type * as accounts from '../../server/modules/accounts/schema';
import type * as admin from '../../server/modules/admin/schema';
import type * as applets from '../../server/modules/applets/schema';
import type * as boards from '../../server/modules/boards/schema';
import type * as chat from '../../server/modules/chat/schema';
import type * as content from '../../server/modules/content/schema';
import type * as federation from '../../server/modules/federation/schema';
import type * as moderation from '../../server/modules/moderation/schema';
import type * as people from '../../server/modules/people/schema';
import type * as privateMessages from '../../server/modules/private-messages/schema';
import type * as notifications from '../../server/modules/notifications/schema';

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

export type { Page } from '../../shared/page';

// Accounts and the signed-in user.
export type Profile = Out<typeof accounts.Profile>;
export type SessionAnswer = Out<typeof accounts.SessionAnswer>;
export type RegisterAnswer = Out<typeof accounts.RegisterAnswer>;
export type RecoverAnswer = Out<typeof accounts.RecoverAnswer>;
/** What a password change answers: the new token of this session (the others end). */
export type RenewedSession = Pick<SessionAnswer, 'token' | 'expires_at'>;
export type RegisterBody = In<typeof accounts.RegisterRequest>;
export type LoginBody = In<typeof accounts.LoginBody>;
export type RecoverBody = In<typeof accounts.RecoverBody>;
export type PasswordChangeBody = In<typeof accounts.PasswordChangeBody>;
export type ProfilePatch = In<typeof accounts.ProfilePatch>;
export type RegisterChallenge = Out<typeof accounts.RegisterChallenge>;

// Boards, messages and search.
export type Board = Out<typeof boards.BoardSchema>;
export type BoardList = Out<typeof boards.BoardList>;
export type BoardListItem = BoardList['items'][number];
export type AccessLevel = Board['read_access'];
export type BoardInput = In<typeof boards.BoardInput>;
export type BoardPatch = In<typeof boards.BoardPatch>;
export type Message = Out<typeof boards.MessageSchema>;
export type RemoteAuthor = Out<typeof federation.RemoteAuthor>;
export type MessageInPage = Out<typeof boards.MessageInPage>;
export type VerifiedMessage = Out<typeof boards.VerifiedMessage>;
export type Attachment = Message['attachments'][number];
export type MessagePost = In<typeof boards.MessagePost>;
/** A message and one page of its thread, oldest first; next_cursor continues it. */
export type Thread = Out<typeof boards.ThreadPage>;
export type DeletedMessage = Out<typeof boards.DeletedMessage>;
export type Snippet = Out<typeof boards.SnippetSchema>;
export type SearchHit = Out<typeof boards.SearchHitSchema>;
export type BoardPage = Out<typeof boards.MessagePage>;
export type ReadPositionList = Out<typeof boards.ReadPositionList>;
export type MarkedRead = Out<typeof boards.MarkedRead>;

// Chat and the event buses.
export type ChatEvent = Out<typeof chat.EventSchema>;
export type EventBatch = Out<typeof chat.EventBatchSchema>;
/** A read of an event bus: after a cursor (absent: the latest), waiting up to `wait` seconds. */
export type ChatRead = Partial<Out<typeof chat.ReadQuery>>;
export type ChatPost = In<typeof chat.ChatPost>;
export type Presence = Out<typeof chat.PresenceSchema>;
export type PresentUser = Presence['users'][number];

// Private messages.
export type PrivateMessage = Out<typeof privateMessages.PrivateMessageSchema>;
export type BoxPage = Out<typeof privateMessages.BoxPage>;
export type Box = Out<typeof privateMessages.BoxQuery>['box'];
export type PrivateMessagePost = In<typeof privateMessages.PrivateMessagePost>;
export type Conversation = Out<typeof privateMessages.ConversationSchema>;
export type ConversationParty = Conversation['with'];
export type ConversationList = Out<typeof privateMessages.ConversationList>;
export type ConversationPage = Out<typeof privateMessages.ConversationPage>;

// People: public profiles and who's online.
export type PersonProfile = Out<typeof people.PersonProfile>;
export type OnlineList = Out<typeof people.OnlineList>;
export type OnlinePerson = OnlineList['items'][number];

// Moderation.
export type Report = Out<typeof moderation.ReportSchema>;
export type ReportStatus = Report['status'];
export type ResolveBody = In<typeof moderation.ResolveBody>;
export type BulkResolveBody = In<typeof moderation.BulkResolveBody>;
export type BulkResolution = Out<typeof moderation.BulkResolution>;
export type ModlogEntry = Out<typeof moderation.ModlogSchema>;
export type BannedPubkey = Out<typeof moderation.BannedPubkeySchema>;
export type BannedUser = Out<typeof moderation.BannedUser>;
export type UserBanBody = In<typeof moderation.UserBanBody>;
export type PubkeyBanBody = In<typeof moderation.PubkeyBanBody>;
export type KarmaBody = In<typeof moderation.KarmaBody>;

// Administration.
export type AdminUser = Out<typeof admin.AdminUser>;
export type UserFlagsPatch = In<typeof admin.UserFlagsPatch>;

// Content.
export type Upload = Out<typeof content.AttachmentSchema>;
export type UploadLimits = Out<typeof content.UploadLimits>;
export type MediaToken = Out<typeof content.MediaToken>;
export type ContentState = Out<typeof content.ContentStateSchema>;

// Applets and rooms' shared state.
export type Applet = Out<typeof applets.AppletSchema>;
export type AppletList = Out<typeof applets.AppletList>;
export type AppletInput = In<typeof applets.AppletInput>;
export type AppletEventPost = In<typeof applets.AppletEventPost>;
export type RoomState = Out<typeof applets.RoomStateSchema>;
export type RoomStateWrite = In<typeof applets.RoomStateWrite>;
export type AppletData = Out<typeof applets.AppletDataSchema>;
export type HighScore = Out<typeof applets.HighScoreSchema>;
export type HighScoreList = Out<typeof applets.HighScoreList>;
export type ScoreInput = In<typeof applets.ScoreInput>;
export type AppletReview = In<typeof applets.AppletReview>;

// Federation.
export type Identity = Out<typeof federation.InstanceIdentity>;
export type FederatedAction = Out<typeof federation.ActionSchema>;
export type ProfileCorrectionBody = In<typeof federation.ProfileCorrectionBody>;

// Notifications and the live feed.
export type Notification = Out<typeof notifications.NotificationSchema>;
export type NotificationPage = Out<typeof notifications.NotificationPage>;
export type LiveState = Out<typeof notifications.LiveState>;
export type ThreadWatch = Out<typeof notifications.ThreadWatch>;
