// Every error code the API answers with: its HTTP status, the default message the server sends and
// when it happens. The server may only throw these codes (AppError's code is an ErrorCode), the
// OpenAPI document and docs/api.md list them, and the web client has a human message for each.
export const ERRORS = {
  VALIDATION_ERROR: {
    status: 400,
    message: 'a field is invalid',
    when: 'a field is missing, extra, too long or of the wrong type; `details.fields` names it',
  },
  INVALID_JSON: {
    status: 400,
    message: 'the body is not valid JSON',
    when: 'the body is not JSON, or is empty while Content-Type says JSON',
  },
  INVALID_CURSOR: {
    status: 400,
    message: 'is not a cursor this server issued',
    when: 'a `cursor` this server did not issue',
  },
  INVALID_CONTENT_LENGTH: {
    status: 400,
    message: 'Content-Length does not match the body',
    when: 'the body is shorter or longer than its Content-Length',
  },
  CHALLENGE_INVALID: {
    status: 400,
    message: 'the registration challenge is not valid; ask for a new one',
    when: 'a sign-up whose proof-of-work challenge is forged, expired or not solved',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'the request is malformed',
    when: 'any other malformed request (the status is the one Fastify chose, always 4xx)',
  },
  PM_SIGNATURE_INVALID: {
    status: 400,
    message: "the private message's signature does not verify under its sender's key",
    when: "a private message from a peer whose sender's signature does not verify over its ciphertext and envelopes",
  },
  UNAUTHORIZED: {
    status: 401,
    message: 'authentication required',
    when: 'no token (or, on `/metrics`, not the metrics token)',
  },
  INVALID_TOKEN: {
    status: 401,
    message: 'the token is not valid',
    when: 'a token this server did not sign, or a malformed one',
  },
  SESSION_EXPIRED: {
    status: 401,
    message: 'the session has ended; log in again',
    when: 'a session that expired or was ended (logout, password change, recovery, ban)',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    message: 'the username or password is wrong',
    when: 'wrong username or password (the same answer for both)',
  },
  INVALID_RECOVERY_KEY: {
    status: 401,
    message: 'the username or recovery key is wrong',
    when: 'wrong username or recovery key',
  },
  FEDERATION_SIGNATURE: {
    status: 401,
    message: 'the request is not signed as federation requests must be',
    when: 'a federation request with a missing or malformed X-Pubkey, X-Timestamp, X-Nonce or X-Signature, a body that does not match its digest, or a signature that does not verify',
  },
  FEDERATION_CLOCK: {
    status: 401,
    message: "the request's X-Timestamp is more than 300 s from this server's clock",
    when: "a federation request whose `X-Timestamp` is more than 300 s away from the receiver's clock",
  },
  FORBIDDEN: {
    status: 403,
    message: 'you may not do that',
    when: 'not allowed; the message says why',
  },
  ACCOUNT_BANNED: {
    status: 403,
    message: 'this account is banned',
    when: 'the account is banned',
  },
  WRONG_PASSWORD: {
    status: 403,
    message: 'the current password is wrong',
    when: 'a password change whose current password is wrong',
  },
  POSTING_DISABLED: {
    status: 403,
    message: 'this account may not post',
    when: 'a moderator took the right to post (boards and private messages) from the account',
  },
  PUBKEY_BANNED: {
    status: 403,
    message: 'your key is banned on this instance',
    when: "a message signed by a key on the instance's key ban list",
  },
  AGENT_SCOPE: {
    status: 403,
    message: 'this agent token may not do that',
    when: 'an agent token used for a write its scope does not name (another board or applet, or any other write)',
  },
  BOARD_ARCHIVED: {
    status: 403,
    message: 'this board is archived',
    when: 'posting on an archived board',
  },
  NOT_MESSAGE_AUTHOR: {
    status: 403,
    message: 'only its author may edit a message',
    when: "editing a message someone else wrote (moderators too: an edit is signed by the author's key)",
  },
  NOT_REALTIME: {
    status: 403,
    message: 'this board is not a real-time board',
    when: 'chat on a board that is not a real-time room',
  },
  FEDERATION_UNTRUSTED: {
    status: 403,
    message: 'this instance does not trust that key',
    when: "a federation request signed by a key that is not a trusted peer's (unknown, or not trusted)",
  },
  ROOM_NOT_SHARED: {
    status: 403,
    message: 'that room is not shared with your instance',
    when: "a peer's room write or presence report for a room none of this instance's boards shares with it",
  },
  NOT_FOUND: {
    status: 404,
    message: 'not found',
    when: 'no such route or object, or one you may not see',
  },
  PM_RECIPIENT_NOT_HERE: {
    status: 404,
    message: 'the recipient does not live on this instance',
    when: 'a private message from a peer for a key that is no user of this instance (not here, or a changed key)',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'this method is not allowed here',
    when: 'the path exists with other methods (listed in `Allow`)',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request did not arrive in time',
    when: 'a request whose headers or body arrive slower than the server waits (docs/security.md, timeouts); the connection closes',
  },
  FEDERATION_REPLAY: {
    status: 409,
    message: 'this request was received already (same key and nonce)',
    when: 'a federation request whose (key, `X-Nonce`) pair was seen in the last 600 s',
  },
  USERNAME_TAKEN: {
    status: 409,
    message: 'that username is taken',
    when: 'registration with a name in use (names are case-insensitive)',
  },
  BOARD_NAME_TAKEN: {
    status: 409,
    message: 'a board with that name exists',
    when: 'creating or renaming a board to a name in use',
  },
  ROOM_TAKEN: {
    status: 409,
    message: 'another board already uses that federation_room_id',
    when: 'a board whose `federation_room_id` another board uses',
  },
  APPLET_NAME_TAKEN: {
    status: 409,
    message: 'an applet with that name exists',
    when: 'installing an applet under a name in use',
  },
  AGENT_TOKEN_LIMIT: {
    status: 409,
    message: 'this agent holds as many tokens as it may',
    when: 'issuing a token to an agent that holds 20 already',
  },
  ALREADY_REPORTED: {
    status: 409,
    message: 'you have reported this message already',
    when: 'a second open report of the same message by the same reader',
  },
  CHALLENGE_USED: {
    status: 409,
    message: 'this registration challenge was used already',
    when: 'a sign-up with a proof-of-work challenge spent by an earlier one (any process)',
  },
  REPORT_CLOSED: {
    status: 409,
    message: 'this report is closed already',
    when: 'resolving or dismissing a report that is no longer open',
  },
  VERSION_CONFLICT: {
    status: 409,
    message: 'the room is at another version; re-read and retry',
    when: "a room-state write whose `version` is not the state's current one",
  },
  TOO_MANY_ROOMS: {
    status: 409,
    message: 'this board holds as many rooms as it may; reuse one',
    when: 'a room-state write that would open a room past the per-board limit',
  },
  ACTION_NOT_APPLIED: {
    status: 409,
    message: 'this federated action is not applied here',
    when: 'reversing a federated action that was refused, or reversed already',
  },
  NOT_ROOM_HOME: {
    status: 409,
    message: "this instance is not the room's home",
    when: "a room write that cannot reach the room's home: relayed 3 times already, or its next hop is its sender",
  },
  MESSAGE_DELETED: {
    status: 409,
    message: 'this message was deleted',
    when: 'editing a deleted message (a tombstone), or reading its versions',
  },
  PEER_CONFIRMATION_REQUIRED: {
    status: 409,
    message: "confirm the peer's fingerprint: send it back as `fingerprint` to add the peer",
    when: 'adding a peer without `fingerprint`: nothing is stored; `details` has the fingerprint, nickname and base URL the peer showed',
  },
  PEER_FINGERPRINT_MISMATCH: {
    status: 409,
    message: 'the fingerprint is not the one of the key the peer shows',
    when: "adding a peer whose identity shows another fingerprint than the one given, or accepting a key change with another fingerprint than the pending one; `details` has the peer's",
  },
  PEER_EXISTS: {
    status: 409,
    message: 'this instance is in the peer registry already',
    when: 'adding a peer whose key or base URL the registry holds already',
  },
  NO_KEY_CHANGE: {
    status: 409,
    message: 'this peer has no key change waiting',
    when: '`accept_key` on a peer whose identity showed no new key',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: 'the body is larger than this endpoint accepts',
    when: 'JSON bodies over 1 MiB, uploads over `AXON_UPLOAD_LIMIT`, avatars over 512 KiB',
  },
  UPLOAD_QUOTA_EXCEEDED: {
    status: 413,
    message: 'this upload would pass your upload quota',
    when: 'an upload past `AXON_UPLOAD_QUOTA_BYTES` or `AXON_UPLOAD_QUOTA_FILES` for the account',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'this endpoint does not accept that Content-Type',
    when: 'a body that is not `application/json` (uploads: multipart; avatars: PNG, JPEG, GIF, WebP)',
  },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    message: 'the range lies outside the content',
    when: 'a `Range` outside the content (`Content-Range` gives its size)',
  },
  FEDERATION_HOST: {
    status: 421,
    message: "the Host is not one of this instance's public hosts",
    when: 'a federation request whose `Host` is not in `AXON_PUBLIC_HOSTS` (default: the host of `AXON_PUBLIC_URL` and the listen address)',
  },
  CONTENT_HASH_MISMATCH: {
    status: 422,
    message: 'the uploaded file does not hash to the declared X-Content-SHA256; nothing was kept',
    when: 'an upload that does not hash to its `X-Content-SHA256`',
  },
  FEDERATION_RATE_LIMITED: {
    status: 429,
    message: 'this peer sent more objects than it may in a minute; retry later',
    when: "an inbox batch past the sending peer's `objects_per_minute` (else `AXON_PEER_OBJECTS_PER_MINUTE`); `details.retry_after_seconds` and `Retry-After` say when to retry, `details.objects_per_minute` the limit",
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many attempts; try again later',
    when: 'too many attempts; `Retry-After` says when to try again',
  },
  TOO_MANY_STREAMS: {
    status: 429,
    message: 'this session has as many streams and long polls open as it may',
    when: 'an SSE stream or long poll past `AXON_STREAMS_PER_SESSION` for one session',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'the request line and headers are larger than the server accepts',
    when: "a request line and headers over 16 KiB (the limit of Node's HTTP parser), answered before routing; the connection closes",
  },
  INTEGRITY_ERROR: {
    status: 500,
    message: 'the stored content failed its integrity check',
    when: 'stored content that fails verification (the answer stops there)',
  },
  INTERNAL_ERROR: {
    status: 500,
    message: 'something went wrong on the server; the request changed nothing',
    when: 'a server fault; `details.request_id` matches the `X-Request-Id` header and the log',
  },
  PEER_UNREACHABLE: {
    status: 502,
    message: 'the peer could not be reached',
    when: "fetching a peer's identity failed (refused, timed out, redirected, too large, not JSON); `details.reason` says why",
  },
  PEER_IDENTITY_INVALID: {
    status: 502,
    message: "the peer's identity document is not valid",
    when: 'an identity document without an RSA public key, or whose fingerprint is not the one of its key',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'the database is unreachable',
    when: '`/api/health` when the database is unreachable',
  },
  SERVER_BUSY: {
    status: 503,
    message: 'the server is busy; retry later',
    when: 'an SSE stream or long poll past `AXON_STREAMS_TOTAL` in this process; a login, sign-up, recovery or password change when `AXON_WORK_QUEUE` jobs wait already, or too many delayed logins wait (`Retry-After` says when to retry)',
  },
} as const satisfies Record<string, { status: number; message: string; when: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}
