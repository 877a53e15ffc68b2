// Axon without JavaScript (docs/lite.md): server-rendered pages under /lite/ for Tor Browser's
// "Safest" level, from the same services and the same Markdown renderer as the API. No script at
// all, nothing loaded from elsewhere, forms post only here. This part serves reading: the board
// list, a board's threads, a thread, search; each page is paged by the API's own cursors.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { describeError } from '../../http/error-handler.js';
import { AppError, parseInput } from '../../http/errors.js';
import { encodeCursor } from '../../http/pagination.js';
import { boardActivity } from '../boards/activity.js';
import type { Message } from '../boards/messages.js';
import { MessagePageQuery, MessagePost, SearchQuery, ThreadPageQuery } from '../boards/schema.js';
import { html, page, trusted, when, type Html } from './html.js';
import { LITE_CSS } from './style.js';
import {
  anonymousFormToken,
  checkAnonymousForm,
  clearSessionCookie,
  formSession,
  liteSession,
  setSessionCookie,
  type LiteSession,
} from './session.js';
import { AttemptCounters, AttemptThrottle } from '../../http/rate-limits.js';
import type { User } from '../accounts/user.js';

/** No script at all; styles and images from this origin only; forms post here only. */
export const LITE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });
const PAGE_SIZE = 25;
/** A form's body: a 64 KiB message and its subject, percent-encoded, fit. */
const FORM_BODY_LIMIT = 256 * 1024;

function author(m: Message): Html {
  return m.authorInstance === null
    ? html`<span class="author">${m.authorNickname}</span>`
    : html`<span class="author remote" title="from another instance">${m.authorNickname}</span>`;
}

/** "First page" (when not on it) and "Next page" links for a page of `base` (which may hold a query). */
function pager(base: string, next: string | null, current: string | undefined): Html {
  const at = (cursor: string) =>
    `${base}${base.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
  return html`<nav class="pager">
    ${current === undefined ? '' : html`<a href="${base}">First page</a>`}
    ${next === null ? '' : html`<a rel="next" href="${at(next)}">Next page</a>`}
  </nav>`;
}

export async function liteRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (lite) => {
    const r = lite.withTypeProvider<ZodTypeProvider>();
    const instance = ctx.identity.nickname;

    lite.addHook('onSend', async (_request, reply, payload) => {
      void reply
        .header('Content-Security-Policy', LITE_CSP)
        .header('Cache-Control', 'no-store')
        .header('Referrer-Policy', 'no-referrer');
      return payload;
    });

    lite.setErrorHandler((error: FastifyError, request, reply) => {
      const { status, body } = describeError(error, request);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      const title = status === 404 ? 'Not found' : status < 500 ? 'Cannot do that' : 'Server error';
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(
          page(
            { title, instance, reader: null },
            html`<h1>${title}</h1>
              <p class="notice">${body.message}</p>
              <p><a href="/lite/">Back to the boards</a></p>`,
          ),
        );
    });

    const htmlPage = (title: string, body: Html, reader: LiteSession | null) =>
      page(
        {
          title,
          instance,
          reader:
            reader === null ? null : { nickname: reader.session.user.nickname, csrf: reader.csrf },
        },
        body,
      );
    const reading = async (request: FastifyRequest) => {
      const reader = await liteSession(ctx, request);
      return { reader, viewer: (reader?.session.user ?? null) as User | null };
    };
    // Forms post application/x-www-form-urlencoded; nothing else is read here.
    lite.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (_request, body, done) => {
        const fields: Record<string, string> = {};
        for (const [name, value] of new URLSearchParams(body as string)) {
          if (Object.hasOwn(fields, name))
            return done(new AppError(400, 'VALIDATION_ERROR', `${name}: sent twice`), undefined);
          fields[name] = value;
        }
        done(null, fields);
      },
    );
    const throttle = new AttemptThrottle(
      {
        freePerMinute: ctx.config.rateLimits.loginPerMinute,
        maxDelayed: ctx.config.rateLimits.loginDelayedMax,
      },
      new AttemptCounters(ctx.database),
    );

    r.get('/lite/style.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(LITE_CSS),
    );

    r.get('/lite/', { schema: { hide: true } }, async (request, reply) => {
      const { reader, viewer } = await reading(request);
      const boards = await ctx.boards.list(viewer, false);
      const activity = await boardActivity(
        ctx.database.db,
        boards.map((b) => b.id),
      );
      const items = boards.map((b) => {
        const a = activity.get(b.id)!;
        return html`<li>
          <a href="/lite/boards/${b.id}/"><strong>${b.name}</strong></a>
          ${b.description ? html`<div>${b.description}</div>` : ''}
          <div class="meta">
            ${a.threadCount} threads · ${a.postCount}
            posts${
              a.lastPost === null
                ? ''
                : html` · last post by ${a.lastPost.nickname}, ${when(a.lastPost.createdAt)}`
            }
          </div>
        </li>`;
      });
      return reply.type('text/html; charset=utf-8').send(
        htmlPage(
          'Boards',
          html`<h1>Boards</h1>
            ${
              items.length === 0
                ? html`<p>No boards yet.</p>`
                : html`<ul class="list">
                    ${items}
                  </ul>`
            }`,
          reader,
        ),
      );
    });

    r.get(
      '/lite/boards/:id/',
      {
        schema: {
          hide: true,
          params: IdParam,
          querystring: z.strictObject({ cursor: MessagePageQuery.shape.cursor }),
        },
      },
      async (request, reply) => {
        const { reader, viewer } = await reading(request);
        const board = await ctx.boards.getReadable(viewer, request.params.id);
        const threads = await ctx.messages.list(viewer, board.id, {
          cursor: request.query.cursor,
          limit: PAGE_SIZE,
          order: 'newest',
          threads: true,
        });
        const items = threads.items.map(
          (m) =>
            html`<li>
              <a href="/lite/messages/${m.id}/"
                ><strong
                  >${m.deleted === null ? m.subject || '(no subject)' : '(deleted)'}</strong
                ></a
              >
              <div class="meta">
                ${author(m)}, ${when(m.createdAt)} · ${m.replyCount ?? 0}
                replies${
                  m.lastPost === undefined || m.lastPost.id === m.id
                    ? ''
                    : html` · last by ${m.lastPost.nickname}, ${when(m.lastPost.at)}`
                }
              </div>
            </li>`,
        );
        const base = `/lite/boards/${board.id}/`;
        return reply.type('text/html; charset=utf-8').send(
          htmlPage(
            board.name,
            html`<h1>${board.name}</h1>
              ${board.description ? html`<p>${board.description}</p>` : ''}
              ${
                items.length === 0
                  ? html`<p>No threads here yet.</p>`
                  : html`<ul class="list">
                      ${items}
                    </ul>`
              }
              ${pager(base, threads.next_cursor, request.query.cursor)}
              ${composer(reader, base, 'Start a thread', true)}`,
            reader,
          ),
        );
      },
    );

    r.get(
      '/lite/messages/:id/',
      {
        schema: {
          hide: true,
          params: IdParam,
          querystring: z.strictObject({ cursor: ThreadPageQuery.shape.cursor }),
        },
      },
      async (request, reply) => {
        const { reader, viewer } = await reading(request);
        const { message, thread, nextCursor } = await threadPage(
          ctx,
          viewer,
          request.params.id,
          request.query.cursor,
        );
        const board = await ctx.boards.getReadable(viewer, message.boardId);
        const posts = thread.map(
          (m) =>
            html`<article id="m-${m.id}">
              <div class="meta">${author(m)}, ${when(m.createdAt)}</div>
              ${
                m.deleted !== null
                  ? html`<p class="notice">
                      ${m.deleted.by === 'author' ? 'Deleted by its author' : 'Removed by a moderator'},
                      ${when(m.deleted.at)}
                    </p>`
                  : html`${m.parentId === null || m.subject === '' ? '' : html`<strong>${m.subject}</strong>`}
                      <div class="body">${trusted(renderMarkdown(m.body))}</div>
                      ${attachments(m)}`
              }
            </article>`,
        );
        const base = `/lite/messages/${message.id}/`;
        return reply.type('text/html; charset=utf-8').send(
          htmlPage(
            message.subject || 'Thread',
            html`<p class="meta"><a href="/lite/boards/${board.id}/">${board.name}</a></p>
              <h1>${message.deleted === null ? message.subject || '(no subject)' : '(deleted)'}</h1>
              ${posts} ${pager(base, nextCursor, request.query.cursor)}
              ${composer(reader, base, 'Reply', false)}`,
            reader,
          ),
        );
      },
    );

    r.get(
      '/lite/search/',
      {
        schema: {
          hide: true,
          querystring: z.strictObject({
            q: z
              .string()
              .max(SearchQuery.shape.q.maxLength ?? 200)
              .optional(),
            cursor: SearchQuery.shape.cursor,
          }),
        },
      },
      async (request, reply) => {
        const { reader, viewer } = await reading(request);
        const q = (request.query.q ?? '').trim();
        const form = html`<form class="inline" method="get" action="/lite/search/" role="search">
          <label for="q" class="meta">Search</label>
          <input id="q" type="search" name="q" value="${q}" maxlength="200" />
          <button type="submit">Search</button>
        </form>`;
        if (q === '') {
          return reply.type('text/html; charset=utf-8').send(
            htmlPage(
              'Search',
              html`<h1>Search</h1>
                ${form}`,
              reader,
            ),
          );
        }
        const found = await ctx.search.search(viewer, {
          q,
          cursor: request.query.cursor,
          limit: PAGE_SIZE,
        });
        const hits = found.items.map(
          (hit) =>
            html`<li>
              <a href="/lite/messages/${hit.message.threadId}/#m-${hit.message.id}"
                ><strong
                  >${hit.subject.map((p) => (p.match ? html`<mark>${p.text}</mark>` : p.text))}</strong
                ></a
              >
              <div>
                ${hit.snippet.map((p) => (p.match ? html`<mark>${p.text}</mark>` : p.text))}
              </div>
              <div class="meta">${author(hit.message)}, ${when(hit.message.createdAt)}</div>
            </li>`,
        );
        const base = `/lite/search/?q=${encodeURIComponent(q)}`;
        return reply.type('text/html; charset=utf-8').send(
          htmlPage(
            `Search: ${q}`,
            html`<h1>Search</h1>
              ${form}
              ${
                hits.length === 0
                  ? html`<p>Nothing found.</p>`
                  : html`<ul class="list">
                      ${hits}
                    </ul>`
              }
              ${pager(base, found.next_cursor, undefined)}`,
            reader,
          ),
        );
      },
    );

    const Login = z.strictObject({
      username: z.string().min(1).max(64),
      password: z.string().min(1).max(1024),
      csrf: z.string().max(128).optional(),
    });
    const loginPage = (token: string, error?: string) =>
      htmlPage(
        'Log in',
        html`<h1>Log in</h1>
          ${error === undefined ? '' : html`<p class="notice" role="alert">${error}</p>`}
          <form method="post" action="/lite/login/">
            <input type="hidden" name="csrf" value="${token}" />
            <p>
              <label for="username">Username</label><br /><input
                id="username"
                name="username"
                type="text"
                autocomplete="username"
                required
                maxlength="64"
              />
            </p>
            <p>
              <label for="password">Password</label><br /><input
                id="password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
              />
            </p>
            <p><button type="submit">Log in</button></p>
          </form>`,
        null,
      );

    r.get('/lite/login/', { schema: { hide: true } }, async (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(loginPage(anonymousFormToken(ctx, request, reply))),
    );

    r.post('/lite/login/', { schema: { hide: true, body: Login } }, async (request, reply) => {
      checkAnonymousForm(request, request.body.csrf);
      const name = request.body.username.toLowerCase();
      // The API's slow-down per account name, counted in the same table.
      await throttle.pass('login', name);
      let signedIn;
      try {
        signedIn = await ctx.accounts.login({
          username: request.body.username,
          password: request.body.password,
        });
      } catch (error) {
        if (error instanceof AppError && error.status < 500) {
          return reply
            .code(error.status)
            .type('text/html; charset=utf-8')
            .send(loginPage(anonymousFormToken(ctx, request, reply), error.message));
        }
        throw error;
      }
      await throttle.forgive('login', name);
      setSessionCookie(ctx, reply, signedIn.session.token, signedIn.session.expiresAt);
      return reply.code(303).header('Location', '/lite/').send();
    });

    const CsrfOnly = z.strictObject({ csrf: z.string().max(128).optional() });
    r.post('/lite/logout/', { schema: { hide: true, body: CsrfOnly } }, async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      await ctx.accounts.logout(session);
      clearSessionCookie(ctx, reply);
      return reply.code(303).header('Location', '/lite/').send();
    });

    const Post = z.strictObject({
      subject: z.string().max(500).optional(),
      body: z.string().min(1, 'must not be empty').max(FORM_BODY_LIMIT),
      csrf: z.string().max(128).optional(),
    });
    r.post(
      '/lite/boards/:id/',
      { schema: { hide: true, params: IdParam, body: Post } },
      async (request, reply) => {
        const session = await formSession(ctx, request, request.body.csrf);
        const posted = await ctx.messages.post(
          session,
          parseInput(MessagePost, {
            board_id: request.params.id,
            subject: request.body.subject ?? '',
            body: request.body.body,
          }),
        );
        return reply.code(303).header('Location', `/lite/messages/${posted.id}/`).send();
      },
    );
    r.post(
      '/lite/messages/:id/',
      { schema: { hide: true, params: IdParam, body: Post } },
      async (request, reply) => {
        const session = await formSession(ctx, request, request.body.csrf);
        const { message } = await ctx.messages.get(session.user, request.params.id, { limit: 1 });
        const posted = await ctx.messages.post(
          session,
          parseInput(MessagePost, {
            board_id: message.boardId,
            subject: request.body.subject || `Re: ${message.subject}`.slice(0, 200),
            body: request.body.body,
            parent_id: message.id,
          }),
        );
        return reply
          .code(303)
          .header('Location', `/lite/messages/${message.threadId}/#m-${posted.id}`)
          .send();
      },
    );
  });
}

/** A message's thread page (the API's keyset pages), oldest first. */
async function threadPage(
  ctx: AppContext,
  viewer: User | null,
  id: string,
  cursor: string | undefined,
): Promise<{ message: Message; thread: Message[]; nextCursor: string | null }> {
  const { message, thread } = await ctx.messages.get(viewer, id, { cursor, limit: PAGE_SIZE });
  const items = thread.slice(0, PAGE_SIZE);
  const last = items.at(-1);
  return {
    message,
    thread: items,
    nextCursor: thread.length > PAGE_SIZE && last !== undefined ? encodeCursor([last.seq]) : null,
  };
}

/** The form that posts a thread (with a subject) or a reply, or a way to sign in first. */
function composer(
  reader: LiteSession | null,
  action: string,
  title: string,
  subject: boolean,
): Html {
  if (reader === null) return html`<p><a href="/lite/login/">Log in</a> to write here.</p>`;
  return html`<form method="post" action="${action}">
    <h2>${title}</h2>
    ${reader.csrf === null ? '' : html`<input type="hidden" name="csrf" value="${reader.csrf}" />`}
    ${subject ? html`<p><label for="subject">Subject</label><br /><input id="subject" name="subject" type="text" required maxlength="200" /></p>` : ''}
    <p>
      <label for="body">Message (Markdown)</label><br /><textarea
        id="body"
        name="body"
        rows="8"
        cols="60"
        required
      ></textarea>
    </p>
    <p><button type="submit">Post</button></p>
  </form>`;
}

function attachments(m: Message): Html {
  if (m.attachments.length === 0) return html``;
  return html`<ul class="attachments">
    ${m.attachments.map((a) => {
      const url = `/api/content/stream/${a.content_hash}/`;
      return /^image\/(png|jpeg|gif|webp)$/.test(a.mime_type)
        ? html`<li>
            <a href="${url}"><img src="${url}" alt="${a.filename}" loading="lazy" /></a>
          </li>`
        : html`<li>
            <a href="${url}" download="${a.filename}">${a.filename}</a>
            <span class="meta">(${a.size} bytes)</span>
          </li>`;
    })}
  </ul>`;
}
