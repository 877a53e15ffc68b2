// The API's shapes as the web client sees them, taken from the modules' zod schemas (schema.ts;
// type-only imports: nothing of the server reaches the bundle) and src/shared, so a change there
// is a type error here. Never from a route file.
import type { z } from 'zod';
import type {
  Profile as ProfileSchema,
  RegisterAnswer as RegisterAnswerSchema,
  RegisterChallenge as RegisterChallengeSchema,
  SessionAnswer as SessionAnswerSchema,
} from '../../server/modules/accounts/schema';
import type { AdminUser as AdminUserSchema } from '../../server/modules/admin/schema';
import type { BoardSchema, MessageSchema, SnippetSchema } from '../../server/modules/boards/schema';
import type { EventSchema } from '../../server/modules/chat/routes';
import type { InstanceIdentity } from '../../server/modules/federation/schema';
import type { AttachmentSchema } from '../../server/modules/content/schema';
import type {
  BannedPubkeySchema,
  ModlogSchema,
  ReportSchema,
} from '../../server/modules/moderation/schema';
import type { PrivateMessageSchema } from '../../server/modules/private-messages/schema';

export type Profile = z.output<typeof ProfileSchema>;
export type Board = z.output<typeof BoardSchema>;
export type Message = z.output<typeof MessageSchema>;
export type Attachment = Message['attachments'][number];
export type Snippet = z.output<typeof SnippetSchema>;
export type AccessLevel = Board['read_access'];
export type Upload = z.output<typeof AttachmentSchema>;
export type PrivateMessage = z.output<typeof PrivateMessageSchema>;
export type ChatEvent = z.output<typeof EventSchema>;
export type Report = z.output<typeof ReportSchema>;
export type ModlogEntry = z.output<typeof ModlogSchema>;
export type BannedPubkey = z.output<typeof BannedPubkeySchema>;
export type AdminUser = z.output<typeof AdminUserSchema>;

export type { Page } from '../../shared/page';

export type SessionAnswer = z.output<typeof SessionAnswerSchema>;
export type RegisterAnswer = z.output<typeof RegisterAnswerSchema>;
export type RegisterChallenge = z.output<typeof RegisterChallengeSchema>;

/** A message and one page of its thread, oldest first; next_cursor continues it. */
export interface Thread {
  message: Message & { signature_valid: boolean };
  thread: (Message & { signature_valid: boolean })[];
  next_cursor: string | null;
}

export interface SearchHit {
  message: Message;
  rank: number;
  subject_highlighted: Snippet;
  snippet: Snippet;
}

export interface PresentUser {
  user_id: string;
  nickname: string;
  avatar_url: string | null;
  last_seen: string;
}

export type Identity = z.output<typeof InstanceIdentity>;
