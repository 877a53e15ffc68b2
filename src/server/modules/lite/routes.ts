// Axon without JavaScript (docs/lite.md): server-rendered pages under /lite/ for Tor Browser's
// "Safest" level, from the same services and the same Markdown renderer as the API. No script at
// all, nothing loaded from elsewhere, forms post only here. This part serves reading: the board
// list, a board's threads, a thread, search; each page is paged by the API's own cursors.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import type { AppContext } from '../../context.js';
import { describeError } from '../../http/error-handler.js';
import { encodeCursor } from '../../http/pagination.js';
import { optionalUser } from '../../http/auth.js';
import { boardActivity } from '../boards/activity.js';
import type { Message } from '../boards/messages.js';
import { MessagePageQuery, SearchQuery, ThreadPageQuery } from '../boards/schema.js';
import { html, page, trusted, when, type Html } from './html.js';
import { LITE_CSS } from './style.js';

/** No script at all; styles and images from this origin only; forms post here only. */
export const LITE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

const IdParam = z.strictObject({ id: z.string().min(1).max(64) });
const PAGE_SIZE = 25;

function author(m: Message): Html {
  return m.authorInstance === null
    ? html`<span class="author">${m.authorNickname}</span>`
    : html`<span class="author remote" title="from another instance">${m.authorNickname}</span>`;
}

function pager(next: string | null, href: (cursor: string) => string, first?: string): Html {
  return html`<nav class="pager">
    ${first === undefined ? '' : html`<a href="${first}">First page</a>`}
    ${next === null ? '' : html`<a rel="next" href="${href(next)}">Next page</a>`}
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
            { title, instance },
            html`<h1>${title}</h1>
              <p class="notice">${body.message}</p>
              <p><a href="/lite/">Back to the boards</a></p>`,
          ),
        );
    });

    const htmlPage = (title: string, body: Html, signedInAs: string | null) =>
      page({ title, instance, signedInAs }, body);

    r.get('/lite/style.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(LITE_CSS),
    );

    r.get('/lite/', { schema: { hide: true } }, async (request, reply) => {
      const viewer = await optionalUser(ctx, request);
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
          viewer?.nickname ?? null,
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
        const viewer = await optionalUser(ctx, request);
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
              ${pager(threads.next_cursor, (c) => `${base}?cursor=${encodeURIComponent(c)}`, request.query.cursor === undefined ? undefined : base)}`,
            viewer?.nickname ?? null,
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
        const viewer = await optionalUser(ctx, request);
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
              ${posts}
              ${pager(nextCursor, (c) => `${base}?cursor=${encodeURIComponent(c)}`, request.query.cursor === undefined ? undefined : base)}`,
            viewer?.nickname ?? null,
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
        const viewer = await optionalUser(ctx, request);
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
              viewer?.nickname ?? null,
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
              ${pager(found.next_cursor, (c) => `${base}&cursor=${encodeURIComponent(c)}`)}`,
            viewer?.nickname ?? null,
          ),
        );
      },
    );
  });
}

/** A message's thread page (the API's keyset pages), oldest first. */
async function threadPage(
  ctx: AppContext,
  viewer: Awaited<ReturnType<typeof optionalUser>>,
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
