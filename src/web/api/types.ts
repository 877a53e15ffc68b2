// The API's shapes as the web client sees them. Boards, messages and profiles come straight from
// the server's zod schemas, so a change there is a type error here.
import type { z } from 'zod';
import type { BoardSchema, MessageSchema, SnippetSchema } from '../../server/modules/boards/schema';
import type { Profile as ProfileSchema } from '../../server/modules/accounts/schema';

export type Profile = z.output<typeof ProfileSchema>;
export type Board = z.output<typeof BoardSchema>;
export type Message = z.output<typeof MessageSchema>;
export type Attachment = Message['attachments'][number];
export type Snippet = z.output<typeof SnippetSchema>;
export type AccessLevel = Board['read_access'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface SessionAnswer {
  token: string;
  expires_at: string;
  user: Profile;
}
export interface RegisterAnswer extends SessionAnswer {
  recovery_key: string;
}

export interface Thread {
  message: Message & { signature_valid: boolean };
  thread: (Message & { signature_valid: boolean })[];
}

export interface SearchHit {
  message: Message;
  rank: number;
  subject_highlighted: Snippet;
  snippet: Snippet;
}

export interface Upload {
  id: string;
  content_hash: string;
  size: number;
  mime_type: string;
  filename: string;
  created_at: string;
}

export interface PrivateMessage {
  id: string;
  from: { fingerprint: string; nickname: string; user_id: string | null };
  to: { fingerprint: string; user_id: string | null };
  subject: string;
  body: string;
  body_html: string;
  attachments: Attachment[];
  created_at: string;
  read_at: string | null;
  signature_valid: boolean;
  readable: boolean;
}

export interface ChatEvent {
  cursor: string;
  id: string;
  board_id: string;
  subject: string;
  body: string;
  body_html: string;
  author: {
    fingerprint: string;
    nickname: string;
    user_id: string | null;
    avatar_url: string | null;
  };
  created_at: string;
  created_at_local: string;
}

export interface PresentUser {
  user_id: string;
  nickname: string;
  avatar_url: string | null;
  last_seen: string;
}

export interface Report {
  id: string;
  message_id: string;
  board_id: string;
  reporter_id: string;
  reason: string;
  snapshot: { subject: string; body: string; author_fingerprint: string; author_nickname: string };
  status: 'open' | 'upheld' | 'dismissed';
  resolved_by: string | null;
  resolution_note: string | null;
  resolved_at: string | null;
  message_exists: boolean;
  created_at: string;
}

export interface ModlogEntry {
  id: string;
  actor: { id: string | null; name: string };
  action: string;
  target_type: string;
  target_id: string;
  reason: string;
  details: Record<string, unknown>;
  created_at: string;
}

export interface BannedPubkey {
  fingerprint: string;
  pubkey: string | null;
  reason: string;
  banned_by: string | null;
  created_at: string;
  expires_at: string | null;
}

export interface AdminUser extends Profile {
  is_banned: boolean;
  banned_until: string | null;
  ban_reason: string | null;
}

export interface Identity {
  pubkey: string;
  fingerprint: string;
  nickname: string;
  base_url: string | null;
}
