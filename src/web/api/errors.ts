// What a person reads for each error code of the catalogue (src/shared/errors.ts). Typed over every
// ErrorCode, so a code added to the catalogue without a message here fails the typecheck.
import type { ErrorCode } from '../../shared/errors.js';

export const HUMAN_ERRORS: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'Something in the form is not right.',
  INVALID_JSON: 'The server could not read the request.',
  INVALID_CURSOR: 'That page no longer exists. Go back to the first page.',
  INVALID_CONTENT_LENGTH: 'The request was cut short. Try again.',
  BAD_REQUEST: 'The server could not understand the request.',
  UNAUTHORIZED: 'Please log in first.',
  INVALID_TOKEN: 'Your session is no longer valid. Please log in again.',
  SESSION_EXPIRED: 'Your session has ended. Please log in again.',
  INVALID_CREDENTIALS: 'Wrong username or password.',
  INVALID_RECOVERY_KEY: 'Wrong username or recovery key.',
  FORBIDDEN: 'You are not allowed to do that.',
  ACCOUNT_BANNED: 'This account is banned.',
  WRONG_PASSWORD: 'Your current password is not right.',
  POSTING_DISABLED: 'Your account may not post or send messages.',
  PUBKEY_BANNED: 'Your key is banned on this instance.',
  BOARD_ARCHIVED: 'This board is archived: it takes no new messages.',
  NOT_REALTIME: 'This board has no live chat.',
  NOT_FOUND: 'That does not exist, or you may not see it.',
  METHOD_NOT_ALLOWED: 'The server does not offer that here.',
  CHALLENGE_INVALID: 'The sign-up proof was not accepted (it may have expired). Try again.',
  USERNAME_TAKEN: 'That username is taken. Choose another.',
  BOARD_NAME_TAKEN: 'A board with that name exists. Choose another.',
  ROOM_TAKEN: 'Another board already uses that federation room.',
  APPLET_NAME_TAKEN: 'An applet with that name exists. Choose another.',
  ALREADY_REPORTED: 'You have reported this message already.',
  CHALLENGE_USED: 'That sign-up proof was used already. Try again.',
  REPORT_CLOSED: 'This report is closed already.',
  VERSION_CONFLICT: 'Someone changed this at the same time. Reload and try again.',
  TOO_MANY_ROOMS: 'This board has as many rooms as it can hold. Reuse an existing one.',
  PAYLOAD_TOO_LARGE: 'That is too large for this instance.',
  UPLOAD_QUOTA_EXCEEDED: 'You have reached your upload quota: delete old attachments first.',
  UNSUPPORTED_MEDIA_TYPE: 'That kind of file is not accepted here.',
  RANGE_NOT_SATISFIABLE: 'That part of the file does not exist.',
  CONTENT_HASH_MISMATCH: 'The file changed on the way. Try the upload again.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  TOO_MANY_STREAMS: 'Too many live views are open in this session. Close a tab and try again.',
  INTEGRITY_ERROR: 'The stored file failed its integrity check.',
  INTERNAL_ERROR: 'Something went wrong on the server.',
  SERVICE_UNAVAILABLE: 'The server is not ready. Try again shortly.',
  SERVER_BUSY: 'The server is busy. Try again in a moment.',
};

/** The message for a code the server sent; undefined for one outside the catalogue. */
export function humanError(code: string): string | undefined {
  return Object.hasOwn(HUMAN_ERRORS, code) ? HUMAN_ERRORS[code as ErrorCode] : undefined;
}
