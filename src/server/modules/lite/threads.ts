// Boards and threads without JavaScript: the board list, a board's threads, a thread, search, each
// paged by the API's own cursors; and the forms that start a thread or reply, posted through the
// same message service (and signed with the same server-held key) as the API's.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import { parseInput } from '../../http/errors.js';
import { encodeCursor } from '../../http/pagination.js';
import type { AppContext } from '../../context.js';
import type { User } from '../accounts/user.js';
import { boardActivity } from '../boards/activity.js';
import type { Message } from '../boards/messages.js';
import type { AttachmentRef } from '../content/service.js';
import { MessagePageQuery, MessagePost, SearchQuery, ThreadPageQuery } from '../boards/schema.js';
import { html, trusted, when, type Html } from './html.js';
import {
  FORM_BODY_LIMIT,
  IdParam,
  PAGE_SIZE,
  author,
  csrfField,
  csrfInput,
  pager,
  seeOther,
  type Lite,
} from './pages.js';
import { formSession, type LiteSession } from './session.js';

export function threadRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;

  r.get('/lite/', { schema: { hide: true } }, async (request, reply) => {
    const { reader, viewer } = await lite.reading(request);
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
    return lite.send(
      reply,
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
      const { reader, viewer } = await lite.reading(request);
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
              ><strong>${m.deleted === null ? m.subject || '(no subject)' : '(deleted)'}</strong></a
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
      return lite.send(
        reply,
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
      const { reader, viewer } = await lite.reading(request);
      const { message, thread, nextCursor } = await threadPage(
        ctx,
        viewer,
        request.params.id,
        request.query.cursor,
      );
      const board = await ctx.boards.getReadable(viewer, message.boardId);
      const urls = await mediaUrls(
        lite,
        reader,
        thread.flatMap((m) => (m.deleted === null ? m.attachments : [])),
      );
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
                    ${attachmentList(m.attachments, urls)} ${postActions(reader, m)}`
            }
          </article>`,
      );
      const base = `/lite/messages/${message.id}/`;
      return lite.send(
        reply,
        message.subject || 'Thread',
        html`<p class="meta"><a href="/lite/boards/${board.id}/">${board.name}</a></p>
          <h1>${message.deleted === null ? message.subject || '(no subject)' : '(deleted)'}</h1>
          ${posts} ${pager(base, nextCursor, request.query.cursor)}
          ${composer(reader, base, 'Reply', false)}`,
        reader,
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
      const { reader, viewer } = await lite.reading(request);
      const q = (request.query.q ?? '').trim();
      const form = html`<form class="inline" method="get" action="/lite/search/" role="search">
        <label for="q" class="meta">Search</label>
        <input id="q" type="search" name="q" value="${q}" maxlength="200" />
        <button type="submit">Search</button>
      </form>`;
      if (q === '') {
        return lite.send(
          reply,
          'Search',
          html`<h1>Search</h1>
            ${form}`,
          reader,
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
            <div>${hit.snippet.map((p) => (p.match ? html`<mark>${p.text}</mark>` : p.text))}</div>
            <div class="meta">${author(hit.message)}, ${when(hit.message.createdAt)}</div>
          </li>`,
      );
      const base = `/lite/search/?q=${encodeURIComponent(q)}`;
      return lite.send(
        reply,
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
      );
    },
  );

  const Post = z.strictObject({
    subject: z.string().max(500).optional(),
    body: z.string().min(1, 'must not be empty').max(FORM_BODY_LIMIT),
    csrf: csrfField,
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
      return seeOther(reply, `/lite/messages/${posted.id}/`);
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
      return seeOther(reply, `/lite/messages/${message.threadId}/#m-${posted.id}`);
    },
  );
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
    ${csrfInput(reader)}
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

/** Delete for the author's own post, Report for anyone else's, for a signed-in reader. */
function postActions(reader: LiteSession | null, m: Message): Html {
  if (reader === null) return html``;
  if (m.authorId === reader.session.user.id)
    return html`<form class="inline" method="post" action="/lite/messages/${m.id}/delete/">
      ${csrfInput(reader)}<button type="submit">Delete</button>
    </form>`;
  return html`<p class="meta"><a href="/lite/messages/${m.id}/report/">Report</a></p>`;
}

/**
 * The address of each file a signed-in reader is shown: with a media token (what the web client
 * puts in <img> URLs), since the session cookie is sent only to /lite/; minted after the same read
 * rule as the API's. A visitor's plain address serves only public content.
 */
export async function mediaUrls(
  lite: Lite,
  reader: LiteSession | null,
  files: readonly AttachmentRef[],
): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  for (const { content_hash: hash } of files) {
    if (urls.has(hash)) continue;
    const url = `/api/content/stream/${hash}/`;
    if (reader === null) {
      urls.set(hash, url);
      continue;
    }
    await lite.ctx.content.readable(reader.session.user, hash);
    const { token } = await lite.mediaTokens.issue(reader.session, hash);
    urls.set(hash, `${url}?media_token=${encodeURIComponent(token)}`);
  }
  return urls;
}

/** A post's or a private message's files: images inline, other files as downloads. */
export function attachmentList(files: readonly AttachmentRef[], urls: Map<string, string>): Html {
  if (files.length === 0) return html``;
  return html`<ul class="attachments">
    ${files.map((a) => {
      const url = urls.get(a.content_hash)!;
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
