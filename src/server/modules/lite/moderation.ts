// Deleting and reporting without JavaScript, and the moderators' report queue: the same message
// and report services as the API (the same rights, the same karma and modlog), each form with
// its CSRF token.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import { ReportBody, ReportQuery, ResolveBody } from '../moderation/schema.js';
import { parseInput } from '../../http/errors.js';
import { html, trusted, when } from './html.js';
import {
  CsrfOnly,
  IdParam,
  PAGE_SIZE,
  csrfField,
  csrfInput,
  pager,
  seeOther,
  type Lite,
} from './pages.js';
import { formSession } from './session.js';

export function moderationRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;

  r.post(
    '/lite/messages/:id/delete/',
    { schema: { hide: true, params: IdParam, body: CsrfOnly } },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      const { message } = await ctx.messages.get(session.user, request.params.id, { limit: 1 });
      const { tombstone } = await ctx.messages.delete(session, message.id, undefined);
      // An opening post without replies goes with its thread: back to the board then.
      return seeOther(
        reply,
        message.id === message.threadId && !tombstone
          ? `/lite/boards/${message.boardId}/`
          : `/lite/messages/${message.threadId}/#m-${message.id}`,
      );
    },
  );

  r.get(
    '/lite/messages/:id/report/',
    { schema: { hide: true, params: IdParam } },
    async (request, reply) => {
      const { reader, viewer } = await lite.reading(request);
      const { message } = await ctx.messages.get(viewer, request.params.id, { limit: 1 });
      if (reader === null)
        return lite.send(
          reply,
          'Report a message',
          html`<h1>Report a message</h1>
            <p><a href="/lite/login/">Log in</a> to report a message.</p>`,
          null,
        );
      return lite.send(
        reply,
        'Report a message',
        html`<h1>Report a message</h1>
          <p class="meta">${message.authorNickname}: ${message.subject || '(no subject)'}</p>
          <form method="post" action="/lite/messages/${message.id}/report/">
            ${csrfInput(reader)}
            <p>
              <label for="reason">What is wrong with it?</label><br /><textarea
                id="reason"
                name="reason"
                rows="3"
                cols="60"
                maxlength="500"
                required
              ></textarea>
            </p>
            <p><button type="submit">Report</button></p>
          </form>
          <p>
            <a href="/lite/messages/${message.threadId}/#m-${message.id}">Back to the thread</a>
          </p>`,
        reader,
      );
    },
  );

  r.post(
    '/lite/messages/:id/report/',
    {
      schema: {
        hide: true,
        params: IdParam,
        body: z.strictObject({ reason: z.string().max(2000), csrf: csrfField }),
      },
    },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      const { reason } = parseInput(ReportBody, { reason: request.body.reason });
      const report = await ctx.reports.report(session.user, request.params.id, reason);
      const { message } = await ctx.messages.get(session.user, report.messageId, { limit: 1 });
      return lite.send(
        reply,
        'Reported',
        html`<h1>Reported</h1>
          <p>Thank you: the moderators will look at it.</p>
          <p>
            <a href="/lite/messages/${message.threadId}/#m-${message.id}">Back to the thread</a>
          </p>`,
        await lite.member(request),
        { status: 201 },
      );
    },
  );

  r.get(
    '/lite/moderation/reports/',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({ cursor: ReportQuery.shape.cursor }),
      },
    },
    async (request, reply) => {
      const reader = await lite.member(request);
      const open = await ctx.reports.list(reader.session.user, {
        status: 'open',
        cursor: request.query.cursor,
        limit: PAGE_SIZE,
      });
      const items = open.items.map(
        (report) =>
          html`<li id="r-${report.id}">
            <div class="meta">Reported ${when(report.createdAt)}: ${report.reason}</div>
            <div>
              <strong>${report.snapshot.subject || '(no subject)'}</strong>
              <span class="meta">by ${report.snapshot.author_nickname}</span>
            </div>
            <div class="body">${trusted(renderMarkdown(report.snapshot.body))}</div>
            ${
              report.messageExists
                ? html`<p>
                    <a href="/lite/messages/${report.messageId}/">The message in its thread</a>
                  </p>`
                : html`<p class="meta">The message is gone.</p>`
            }
            <form method="post" action="/lite/moderation/reports/${report.id}/resolve/">
              ${csrfInput(reader)}
              <p>
                <label for="note-${report.id}">Note (optional)</label><br /><input
                  id="note-${report.id}"
                  name="note"
                  type="text"
                  maxlength="500"
                />
              </p>
              <p>
                <input id="delete-${report.id}" name="delete_message" type="checkbox" value="on" />
                <label for="delete-${report.id}">Delete the message when upholding</label>
              </p>
              <p>
                <button type="submit" name="action" value="uphold">Uphold</button>
                <button type="submit" name="action" value="dismiss">Dismiss</button>
              </p>
            </form>
          </li>`,
      );
      return lite.send(
        reply,
        'Reports',
        html`<h1>Open reports</h1>
          ${
            items.length === 0
              ? html`<p>No open reports.</p>`
              : html`<ul class="list">
                  ${items}
                </ul>`
          }
          ${pager('/lite/moderation/reports/', open.next_cursor, request.query.cursor)}`,
        reader,
      );
    },
  );

  r.post(
    '/lite/moderation/reports/:id/resolve/',
    {
      schema: {
        hide: true,
        params: IdParam,
        body: z.strictObject({
          action: z.string().max(16),
          delete_message: z.literal('on').optional(),
          note: z.string().max(2000).optional(),
          csrf: csrfField,
        }),
      },
    },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      const decision = parseInput(ResolveBody, {
        action: request.body.action,
        delete_message: request.body.delete_message === 'on',
        note: request.body.note?.trim() || null,
      });
      await ctx.reports.resolve(
        session.user,
        request.params.id,
        { action: decision.action, deleteMessage: decision.delete_message, note: decision.note },
        session.privateKey(),
      );
      return seeOther(reply, '/lite/moderation/reports/');
    },
  );
}
