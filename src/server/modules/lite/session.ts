// Sessions of the pages without JavaScript: the API's own session token, kept in a cookie that
// script could not read anyway (HttpOnly), sent only to /lite/ and only from this site
// (SameSite=Strict), Secure when the instance is HTTPS. Every form carries a CSRF token: for a
// signed-in reader an HMAC of the session token under the instance's token key; before sign-in a
// random value also kept in a cookie (double submit). A request with a bearer token (not sent by
// a browser on its own) needs none.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../http/errors.js';
import { authenticate } from '../../http/auth.js';
import { isBanActive } from '../accounts/permissions.js';
import type { Session } from '../accounts/sessions.js';

export const SESSION_COOKIE = 'axon_lite';
export const FORM_COOKIE = 'axon_lite_form';
const PATH = '/lite/';

/** The value of one cookie of the request, or undefined. */
export function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function attributes(ctx: AppContext, maxAgeSeconds: number): string {
  const secure = ctx.config.publicUrl?.startsWith('https:') === true ? '; Secure' : '';
  return `; Path=${PATH}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

export function setSessionCookie(
  ctx: AppContext,
  reply: FastifyReply,
  token: string,
  expiresAt: number,
) {
  const maxAge = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  void reply.header('Set-Cookie', `${SESSION_COOKIE}=${token}${attributes(ctx, maxAge)}`);
}

export function clearSessionCookie(ctx: AppContext, reply: FastifyReply) {
  void reply.header('Set-Cookie', `${SESSION_COOKIE}=${attributes(ctx, 0)}`);
}

/** How a reader is signed in to a lite page: by the cookie, by a bearer token, or not at all. */
export interface LiteSession {
  session: Session;
  /** The CSRF token every form of this reader carries; null with a bearer token (none needed). */
  csrf: string | null;
}

const hmac = (ctx: AppContext, token: string) =>
  createHmac('sha256', ctx.keys.tokenKey).update(`axon-lite-csrf\0${token}`).digest('base64url');

/**
 * The reader's session, or null for a visitor. A cookie whose session ended reads as a visitor
 * (the page then offers to sign in); a banned account is refused as by the API.
 */
export async function liteSession(
  ctx: AppContext,
  request: FastifyRequest,
): Promise<LiteSession | null> {
  if (request.headers.authorization !== undefined)
    return { session: await authenticate(ctx, request), csrf: null };
  const token = cookie(request, SESSION_COOKIE);
  if (token === undefined || token === '') return null;
  let session: Session;
  try {
    session = await ctx.sessions.resolve(ctx.database.db, token);
  } catch {
    return null;
  }
  if (isBanActive(session.user))
    throw new AppError(403, 'ACCOUNT_BANNED', 'this account is banned');
  return { session, csrf: hmac(ctx, token) };
}

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const CSRF_REFUSED = () =>
  new AppError(
    403,
    'FORBIDDEN',
    'the form is stale or was not sent from this site; open the page again',
  );

/** A signed-in reader's form: the session, after its CSRF token checked out. */
export async function formSession(
  ctx: AppContext,
  request: FastifyRequest,
  sent: string | undefined,
): Promise<Session> {
  const signedIn = await liteSession(ctx, request);
  if (signedIn === null) throw new AppError(401, 'UNAUTHORIZED', 'sign in first');
  if (signedIn.csrf !== null && (sent === undefined || !same(sent, signedIn.csrf)))
    throw CSRF_REFUSED();
  return signedIn.session;
}

/** A form shown before sign-in: a fresh random token in a cookie, the same in the form. */
export function anonymousFormToken(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const token = cookie(request, FORM_COOKIE) ?? randomBytes(24).toString('base64url');
  void reply.header('Set-Cookie', `${FORM_COOKIE}=${token}${attributes(ctx, 3600)}`);
  return token;
}

/** Checks an anonymous form's token against its cookie. */
export function checkAnonymousForm(request: FastifyRequest, sent: string | undefined): void {
  const expected = cookie(request, FORM_COOKIE);
  if (expected === undefined || sent === undefined || !same(sent, expected)) throw CSRF_REFUSED();
}
