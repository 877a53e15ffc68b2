// What every area of the pages without JavaScript shares: sending a whole page, reading who the
// reader is, the 303 that ends a form, and the small pieces several pages show.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { AppError } from '../../http/errors.js';
import { can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { Message } from '../boards/messages.js';
import { MediaTokens } from '../content/media-tokens.js';
import { html, page, type Html } from './html.js';
import { liteSession, type LiteSession } from './session.js';

export const IdParam = z.strictObject({ id: z.string().min(1).max(64) });
export const PAGE_SIZE = 25;
/** A form's body: a 64 KiB message and its subject, percent-encoded, fit. */
export const FORM_BODY_LIMIT = 256 * 1024;
/** The CSRF token every signed-in form sends (checked by formSession). */
export const csrfField = z.string().max(128).optional();
export const CsrfOnly = z.strictObject({ csrf: csrfField });

export interface Lite {
  ctx: AppContext;
  /** Sends a whole page for this reader: 200 unless told otherwise, reloading itself if asked. */
  send(
    reply: FastifyReply,
    title: string,
    body: Html,
    reader: LiteSession | null,
    options?: { status?: number | undefined; refreshSeconds?: number },
  ): FastifyReply;
  /** Who reads: the lite session (or null) and the user the services check rights for. */
  reading(request: FastifyRequest): Promise<{ reader: LiteSession | null; viewer: User | null }>;
  /** Tokens for the files a signed-in reader is shown (the cookie never reaches /api/). */
  mediaTokens: MediaTokens;
  /** A signed-in reader, for a page only members see: 401 for a visitor. */
  member(request: FastifyRequest): Promise<LiteSession>;
}

export function liteOf(ctx: AppContext): Lite {
  const instance = ctx.identity.nickname;
  return {
    ctx,
    mediaTokens: new MediaTokens(ctx.keys.tokenKey),
    send: (reply, title, body, reader, { status = 200, refreshSeconds } = {}) =>
      reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(
          page(
            {
              title,
              instance,
              refreshSeconds,
              reader:
                reader === null
                  ? null
                  : {
                      nickname: reader.session.user.nickname,
                      csrf: reader.csrf,
                      moderator: can(reader.session.user, 'moderate'),
                    },
            },
            body,
          ),
        ),
    reading: async (request) => {
      const reader = await liteSession(ctx, request);
      return { reader, viewer: (reader?.session.user ?? null) as User | null };
    },
    member: async (request) => {
      const reader = await liteSession(ctx, request);
      if (reader === null) throw new AppError(401, 'UNAUTHORIZED', 'sign in first');
      return reader;
    },
  };
}

/** The answer to a form that did its work: the browser goes on to `location` with a GET. */
export const seeOther = (reply: FastifyReply, location: string) =>
  reply.code(303).header('Location', location).send();

/** The hidden field with a signed-in reader's CSRF token (none with a bearer token). */
export const csrfInput = (reader: LiteSession): Html =>
  reader.csrf === null ? html`` : html`<input type="hidden" name="csrf" value="${reader.csrf}" />`;

export function author(m: Message): Html {
  return m.authorInstance === null
    ? html`<span class="author">${m.authorNickname}</span>`
    : html`<span class="author remote" title="from another instance">${m.authorNickname}</span>`;
}

/** "First page" (when not on it) and "Next page" links for a page of `base` (which may hold a query). */
export function pager(base: string, next: string | null, current: string | undefined): Html {
  const at = (cursor: string) =>
    `${base}${base.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
  return html`<nav class="pager">
    ${current === undefined ? '' : html`<a href="${base}">First page</a>`}
    ${next === null ? '' : html`<a rel="next" href="${at(next)}">Next page</a>`}
  </nav>`;
}
