// The federated objects this instance moves (DESIGN.md §7): board messages, their author's signed
// deletions and edits, authors' profile updates and moderators' federated actions. Exact shapes, and the author-signature check every
// received object passes before anything is applied.
import { z } from 'zod';
import { parsePublicKey, PublicKeyFormatError } from '../../../crypto/keys.js';
import { verifyObject } from '../../../crypto/signing.js';
import { AVATAR_MAX_BYTES } from '../../../shared/accounts.js';
import { BODY_MAX_BYTES, SUBJECT_MAX } from '../boards/schema.js';

const UUID = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'must be a UUIDv7',
  );
const ISO_TIME = z.iso.datetime({ offset: false, precision: 3 });
// RSA-3072 PEM is about 650 characters; anything much longer is not a key of ours.
const Author = z.strictObject({
  pubkey: z.string().max(2048),
  nickname: z.string().min(1).max(50),
});
const Signature = z.string().min(1).max(1024);

export const MessageObject = z.strictObject({
  type: z.literal('message'),
  id: UUID,
  board: z.string().min(1).max(128),
  parent_id: UUID.nullable(),
  subject: z.string().max(SUBJECT_MAX),
  body: z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= BODY_MAX_BYTES, 'body too long'),
  attachments: z
    .array(
      z.strictObject({
        content_hash: z.string().regex(/^[0-9a-f]{64}$/),
        size: z.number().int().min(0),
        filename: z.string().min(1).max(255),
        mime_type: z.string().min(1).max(255),
      }),
    )
    .max(20),
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

export const DeleteObject = z.strictObject({
  type: z.literal('delete'),
  id: UUID,
  object_id: UUID,
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

/**
 * The author's new version of a message (`object_id`): its subject and body as they are now; its
 * attachments stay the message's. Applied only from the message's origin (inbox.ts).
 */
export const EditObject = z.strictObject({
  type: z.literal('edit'),
  id: UUID,
  object_id: UUID,
  subject: z.string().min(1).max(SUBJECT_MAX),
  body: z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= BODY_MAX_BYTES, 'body too long'),
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

/** Base64 of at most AVATAR_MAX_BYTES bytes. */
const AVATAR_BASE64_MAX = Math.ceil(AVATAR_MAX_BYTES / 3) * 4;

export const ProfileObject = z.strictObject({
  type: z.literal('profile'),
  id: UUID,
  author: Author,
  avatar: z
    .strictObject({
      mime_type: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
      data: z.base64().max(AVATAR_BASE64_MAX),
    })
    .nullable(),
  created_at: ISO_TIME,
  signature: Signature,
});

const FINGERPRINT = z.string().regex(/^[0-9a-f]{64}$/, 'must be a key fingerprint');

/**
 * A moderator's action (a FederatedAction), signed by the moderator's key (`author`); `instance`
 * is the fingerprint of the moderator's instance, which vouches for it by sending it.
 */
export const ActionObject = z.strictObject({
  type: z.literal('action'),
  id: UUID,
  action: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('delete_message'), message_id: UUID }),
    z.strictObject({
      kind: z.literal('ban_pubkey'),
      fingerprint: FINGERPRINT,
      expires_at: ISO_TIME.nullable(),
    }),
    z.strictObject({ kind: z.literal('unban_pubkey'), fingerprint: FINGERPRINT }),
    z.strictObject({
      kind: z.literal('correct_profile'),
      fingerprint: FINGERPRINT,
      nickname: z.string().min(1).max(50),
      clear_avatar: z.boolean(),
    }),
  ]),
  reason: z.string().min(1).max(500),
  instance: FINGERPRINT,
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

/** An event on a shared realtime board (a chat line, an applet's event): live-rooms.ts. */
export const EventObject = z.strictObject({
  type: z.literal('event'),
  id: UUID,
  board: z.string().min(1).max(128),
  subject: z.string().max(SUBJECT_MAX),
  body: z.string().refine((v) => Buffer.byteLength(v, 'utf8') <= BODY_MAX_BYTES, 'body too long'),
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

/**
 * A version of a shared room's state, as its author asked for it (`version` is the new one): the
 * room's home decides it and announces it (live-rooms.ts). `state` is bounded by its JSON size.
 */
export const RoomStateObject = z.strictObject({
  type: z.literal('room_state'),
  id: UUID,
  board: z.string().min(1).max(128),
  room_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/),
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  state: z.unknown(),
  author: Author,
  created_at: ISO_TIME,
  signature: Signature,
});

export const FederatedObject = z.discriminatedUnion('type', [
  MessageObject,
  DeleteObject,
  ProfileObject,
  ActionObject,
  EventObject,
  RoomStateObject,
  EditObject,
]);

export type MessageObject = z.output<typeof MessageObject>;
export type DeleteObject = z.output<typeof DeleteObject>;
export type EditObject = z.output<typeof EditObject>;
export type ProfileObject = z.output<typeof ProfileObject>;
export type ActionObject = z.output<typeof ActionObject>;
export type EventObject = z.output<typeof EventObject>;
export type RoomStateObject = z.output<typeof RoomStateObject>;
export type FederatedObject = z.output<typeof FederatedObject>;

export type ObjectCheck =
  | { ok: true; object: FederatedObject; authorPem: string; authorFingerprint: string }
  | { ok: false; reason: string };

/**
 * Parses a received object and checks its author's signature: the first step of everything
 * received, before any lookup. The reason names what is wrong, for the sender's log.
 */
export function checkObject(input: unknown): ObjectCheck {
  const parsed = FederatedObject.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      reason: `bad schema: ${issue.path.join('.') || 'object'}: ${issue.message}`,
    };
  }
  let key: { pem: string; fingerprint: string };
  try {
    key = parsePublicKey(parsed.data.author.pubkey);
  } catch (error) {
    if (error instanceof PublicKeyFormatError) return { ok: false, reason: 'bad author key' };
    throw error;
  }
  if (!verifyObject(parsed.data, parsed.data.author.pubkey)) {
    return { ok: false, reason: 'bad author signature' };
  }
  return { ok: true, object: parsed.data, authorPem: key.pem, authorFingerprint: key.fingerprint };
}

/** The id of any object-shaped input, for answering per object even when it is malformed. */
export function objectIdOf(input: unknown): string {
  if (typeof input === 'object' && input !== null && 'id' in input) {
    const id = (input as { id: unknown }).id;
    if (typeof id === 'string' && id.length <= 64) return id;
  }
  return '';
}
