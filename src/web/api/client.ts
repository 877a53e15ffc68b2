// Talking to the Axon API: every answer is an envelope; a failure becomes an ApiError with a
// message written for people. A session the server ended sends the reader back to login
// (App listens for SESSION_ENDED) — drafts live in localStorage, so nothing being written is lost.
import { humanError } from './errors';
import { sessionStore } from './session';

export const SESSION_ENDED = 'axon:session-ended';

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** "body.subject" → "Subject". */
function fieldLabel(field: string): string {
  const name = field.split('.').pop() ?? field;
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A ban as its holder reads it: why, and until when (the server sends both). */
function banNotice(details: Record<string, unknown>): string {
  const until = typeof details.until === 'string' ? new Date(details.until) : null;
  const reason =
    typeof details.reason === 'string' && details.reason !== '' ? details.reason : null;
  return [
    until === null
      ? 'This account is banned.'
      : `This account is banned until ${until.toLocaleString()}.`,
    reason === null ? '' : `Reason: ${reason.replace(/\.$/, '')}.`,
  ]
    .join(' ')
    .trim();
}

function humanMessage(
  status: number,
  code: string,
  serverMessage: string,
  fields: FieldError[],
  details: Record<string, unknown>,
) {
  if (code === 'ACCOUNT_BANNED') return banNotice(details);
  if (fields.length > 0) return fields.map((f) => `${fieldLabel(f.field)} ${f.message}.`).join(' ');
  if (code === 'FORBIDDEN' && serverMessage !== '') return serverMessage;
  return (
    humanError(code) ?? (serverMessage !== '' ? serverMessage : `The server answered ${status}.`)
  );
}

interface Envelope<T> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

export function authHeader(): Record<string, string> {
  const session = sessionStore.get();
  return session === null ? {} : { Authorization: `Bearer ${session.token}` };
}

/** Reads an error envelope (or anything else) into an ApiError; ends the session on 401. */
export async function errorFrom(response: Response, sentToken: boolean): Promise<ApiError> {
  let envelope: Envelope<unknown> | null = null;
  try {
    envelope = (await response.json()) as Envelope<unknown>;
  } catch {
    // Not JSON: a proxy's page, a cut connection.
  }
  const code = envelope?.error?.code ?? `HTTP_${response.status}`;
  const details = envelope?.error?.details ?? {};
  const fields = Array.isArray(details.fields) ? (details.fields as FieldError[]) : [];
  const error = new ApiError(
    response.status,
    code,
    humanMessage(response.status, code, envelope?.error?.message ?? '', fields, details),
    fields,
    details,
  );
  // The server ended the session (401), or the account was banned while signed in.
  if (sentToken && (response.status === 401 || code === 'ACCOUNT_BANNED')) {
    sessionStore.ended(error.message);
    window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  }
  return error;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /** A raw body (an avatar image) sent with its own content type. */
  raw?: { body: Blob; type: string };
  /** The request outlives the page (one sent as the tab closes). */
  keepalive?: boolean;
}

export function withQuery(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeader() };
  let body: BodyInit | undefined;
  if (options.raw !== undefined) {
    headers['Content-Type'] = options.raw.type;
    body = options.raw.body;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
      credentials: 'same-origin',
      keepalive: options.keepalive ?? false,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the server. Check your connection.');
  }
  if (!response.ok) throw await errorFrom(response, 'Authorization' in headers);
  const envelope = (await response.json()) as Envelope<T>;
  return envelope.data as T;
}
