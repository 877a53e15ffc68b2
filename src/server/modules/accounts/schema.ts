// The accounts API's shapes: one zod schema serves validation, OpenAPI and the web client's types.
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../../shared/accounts.js';

const CONTROL = /\p{Cc}|\p{Cf}/u;
/** Any zone ICU knows, aliases included (Node lists Asia/Calcutta but people pick Asia/Kolkata). */
function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const username = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'may hold letters, digits, _ . and - (not first)');

export const password = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);

export const nickname = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(50, 'must be at most 50 characters')
  .refine((v) => !CONTROL.test(v), 'must not contain control characters')
  // Authors of other instances are shown as nickname@instance: a local name never looks like one.
  .refine((v) => !v.includes('@'), 'must not contain @');

export const timezone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin');

export const RegisterBody = z.strictObject({
  username,
  password,
  nickname: nickname.optional(),
  timezone: timezone.optional().describe("The account's time zone; UTC when absent"),
});
/** A self-service sign-up: the account's fields and a solved challenge (src/shared/proof-of-work.ts). */
export const RegisterRequest = RegisterBody.extend({
  challenge: z.string().max(256).describe('from GET /api/auth/register/challenge/'),
  solution: z
    .string()
    .regex(/^\d{1,20}$/, 'must be the decimal number that solves the challenge')
    .describe('SHA-256("<challenge>:<solution>") starts with `difficulty` zero bits'),
});
export const RegisterChallenge = z.object({
  challenge: z.string(),
  difficulty: z.number().int(),
  expires_at: z.string(),
});
export const LoginBody = z.strictObject({
  username: z.string().max(32),
  password: z.string().max(1024),
});
export const RecoverBody = z.strictObject({
  username: z.string().max(32),
  recovery_key: z.string().max(128),
  new_password: password,
});
export const PasswordChangeBody = z.strictObject({
  current_password: z.string().max(1024),
  new_password: password,
});
export const ProfilePatch = z
  .strictObject({ nickname: nickname.optional(), timezone: timezone.optional() })
  .refine((v) => v.nickname !== undefined || v.timezone !== undefined, {
    message: 'give at least one of nickname, timezone',
  });

export const Profile = z
  .object({
    id: z.string(),
    username: z.string(),
    nickname: z.string(),
    timezone: z.string(),
    pubkey: z.string(),
    fingerprint: z.string(),
    avatar_url: z.string().nullable(),
    karma: z.number(),
    is_sysop: z.boolean(),
    is_moderator: z.boolean(),
    is_agent: z.boolean(),
    can_post: z.boolean(),
    can_upload: z.boolean(),
    created_at: z.string(),
  })
  .meta({ id: 'Profile' });

export const SessionAnswer = z.object({
  token: z.string(),
  expires_at: z.string(),
  user: Profile,
});
export const RegisterAnswer = SessionAnswer.extend({
  recovery_key: z.string().describe('Shown once: the only way back in without the password'),
});
export const RecoverAnswer = RegisterAnswer;

export const PubkeyInput = z.strictObject({
  pubkey: z
    .string()
    .min(1)
    .max(4096)
    .describe('RSA public key as PEM or base64 DER, or its 64-hex fingerprint'),
});
export const FingerprintParam = z.strictObject({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});
export const IgnoredPubkey = z.object({ fingerprint: z.string(), created_at: z.string() });

export const PageQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
