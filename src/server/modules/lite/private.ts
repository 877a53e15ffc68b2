// Private messages without JavaScript: inbox and sent box, one message (opened, which marks it
// read), write, reply and delete. End to end as in the API: the private message service seals and
// opens each message with the reader's key, which the session holds (the server-held key vault);
// no page keeps or logs plaintext, and every page is sent with Cache-Control: no-store.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import { parseInput } from '../../http/errors.js';
import type { PrivateMessage } from '../private-messages/service.js';
import { BoxQuery, PrivateMessagePost } from '../private-messages/schema.js';
import { html, trusted, when } from './html.js';
import {
  CsrfOnly,
  FORM_BODY_LIMIT,
  IdParam,
  PAGE_SIZE,
  csrfField,
  csrfInput,
  pager,
  seeOther,
  type Lite,
} from './pages.js';
import { formSession } from './session.js';
import { attachmentList, mediaUrls } from './threads.js';

/** `nickname@instance` for a party on another instance, the nickname for a local one. */
const senderName = (m: PrivateMessage) =>
  m.from.instance === null ? m.from.nickname : `${m.from.nickname}@${m.from.instance}`;
function recipientName(m: PrivateMessage): string {
  const name = m.to.nickname ?? `[${m.to.fingerprint.slice(0, 8)}]`;
  return m.to.instance === null ? name : `${name}@${m.to.instance}`;
}
/** Where a reply goes: the sender's key, at its instance when it lives on another. */
const replyAddress = (m: PrivateMessage) =>
  m.from.instance === null ? m.from.fingerprint : `${m.from.fingerprint}@${m.from.instance}`;

export function privateMessageRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;

  r.get(
    '/lite/private/',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({ box: BoxQuery.shape.box, cursor: BoxQuery.shape.cursor }),
      },
    },
    async (request, reply) => {
      const reader = await lite.member(request);
      const { box, cursor } = request.query;
      const page = await ctx.privateMessages.list(reader.session, box, {
        cursor,
        limit: PAGE_SIZE,
      });
      const unread = await ctx.privateMessages.unreadCount(reader.session.user.id);
      const items = page.items.map(
        (m) =>
          html`<li>
            <a href="/lite/private/${m.id}/"
              ><strong
                >${m.readable ? m.subject || '(no subject)' : '(cannot be opened)'}</strong
              ></a
            >
            ${box === 'inbox' && m.readAt === null ? html`<span class="meta">(unread)</span>` : ''}
            <div class="meta">
              ${box === 'inbox' ? html`from ${senderName(m)}` : html`to ${recipientName(m)}`},
              ${when(m.createdAt)}
            </div>
          </li>`,
      );
      return lite.send(
        reply,
        box === 'inbox' ? 'Inbox' : 'Sent',
        html`<h1>${box === 'inbox' ? `Inbox (${unread} unread)` : 'Sent'}</h1>
          <nav class="pager">
            <a href="/lite/private/write/">Write a message</a>
            ${
              box === 'inbox'
                ? html`<a href="/lite/private/?box=outbox">Sent</a>`
                : html`<a href="/lite/private/">Inbox</a>`
            }
          </nav>
          ${
            items.length === 0
              ? html`<p>No messages.</p>`
              : html`<ul class="list">
                  ${items}
                </ul>`
          }
          ${pager(`/lite/private/?box=${box}`, page.next_cursor, cursor)}`,
        reader,
      );
    },
  );

  const Compose = z.strictObject({
    to: z.string().max(320).optional(),
    subject: z.string().max(500).optional(),
  });
  r.get(
    '/lite/private/write/',
    { schema: { hide: true, querystring: Compose } },
    async (request, reply) => {
      const reader = await lite.member(request);
      return lite.send(
        reply,
        'Write a message',
        html`<h1>Write a message</h1>
          <form method="post" action="/lite/private/write/">
            ${csrfInput(reader)}
            <p>
              <label for="to">To (username, key fingerprint, or name@instance)</label><br /><input
                id="to"
                name="to"
                type="text"
                maxlength="320"
                value="${request.query.to ?? ''}"
                required
              />
            </p>
            <p>
              <label for="subject">Subject</label><br /><input
                id="subject"
                name="subject"
                type="text"
                maxlength="200"
                value="${request.query.subject ?? ''}"
              />
            </p>
            <p>
              <label for="body">Message (Markdown)</label><br /><textarea
                id="body"
                name="body"
                rows="8"
                cols="60"
                required
              ></textarea>
            </p>
            <p><button type="submit">Send</button></p>
          </form>
          <p class="meta">
            Sealed for the recipient and for you; the server stores no readable copy.
          </p>`,
        reader,
      );
    },
  );

  r.post(
    '/lite/private/write/',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          to: z.string().max(1000),
          subject: z.string().max(1000).optional(),
          body: z.string().max(FORM_BODY_LIMIT),
          csrf: csrfField,
        }),
      },
    },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      const sent = await ctx.privateMessages.send(
        session,
        parseInput(PrivateMessagePost, {
          to: request.body.to,
          subject: request.body.subject ?? '',
          body: request.body.body,
        }),
      );
      return seeOther(reply, `/lite/private/${sent.id}/`);
    },
  );

  r.get(
    '/lite/private/:id/',
    { schema: { hide: true, params: IdParam } },
    async (request, reply) => {
      const reader = await lite.member(request);
      const m = await ctx.privateMessages.read(reader.session, request.params.id);
      const mine = m.from.userId === reader.session.user.id;
      const subject = m.subject.startsWith('Re: ') ? m.subject : `Re: ${m.subject}`;
      return lite.send(
        reply,
        m.readable ? m.subject || 'Private message' : 'Private message',
        html`<p class="meta"><a href="/lite/private/">Inbox</a></p>
          <h1>${m.readable ? m.subject || '(no subject)' : '(cannot be opened)'}</h1>
          <div class="meta">
            from ${senderName(m)} to ${recipientName(m)}, ${when(m.createdAt)}
            ${m.signatureValid ? '' : html` · <strong>the signature does not check out</strong>`}
          </div>
          ${
            m.readable
              ? html`<div class="body">${trusted(renderMarkdown(m.body))}</div>
                  ${attachmentList(m.attachments, await mediaUrls(lite, reader, m.attachments))}`
              : html`<p class="notice">This message is damaged and cannot be opened.</p>`
          }
          <nav class="pager">
            ${
              mine
                ? ''
                : html`<a
                    href="/lite/private/write/?to=${encodeURIComponent(replyAddress(m))}&subject=${encodeURIComponent(subject.slice(0, 200))}"
                    >Reply</a
                  >`
            }
            <form class="inline" method="post" action="/lite/private/${m.id}/delete/">
              ${csrfInput(reader)}<button type="submit">Delete</button>
            </form>
          </nav>`,
        reader,
      );
    },
  );

  r.post(
    '/lite/private/:id/delete/',
    { schema: { hide: true, params: IdParam, body: CsrfOnly } },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      await ctx.privateMessages.delete(session, request.params.id);
      return seeOther(reply, '/lite/private/');
    },
  );
}
