// AxonChat without JavaScript: a page of the latest lines, newest first, that reloads itself
// (<meta http-equiv="refresh">) since no script can wait for new ones, and a separate page to
// say something (a page that reloads would lose a line half typed). The chat service reads and
// posts, with the same rights and signatures as the API.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseInput } from '../../http/errors.js';
import { ChatPost } from '../chat/schema.js';
import { html, when } from './html.js';
import { csrfField, csrfInput, seeOther, type Lite } from './pages.js';
import { formSession } from './session.js';

/** Lines a page shows. */
const CHAT_LINES = 50;
/**
 * How often the page reloads: new lines show within this, and a reader on Tor (a page takes a
 * second or more there) fetches a few kilobytes every quarter minute, not a stream of them.
 */
export const CHAT_REFRESH_SECONDS = 15;

export function chatRoutes(app: FastifyInstance, lite: Lite): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ctx } = lite;

  /** The latest lines, newest first. */
  async function latest(reader: Awaited<ReturnType<Lite['member']>>) {
    const board = await ctx.chat.chatBoard();
    const { events } = await ctx.chat.read(reader.session.user, board, { limit: CHAT_LINES });
    return html`<ul class="list chat">
      ${[...events]
        .reverse()
        .map(
          (e) =>
            html`<li>
              <span class="meta">${when(e.createdAt)}</span> <strong>${e.author.nickname}</strong>:
              ${e.body}
            </li>`,
        )}
    </ul>`;
  }

  r.get('/lite/chat/', { schema: { hide: true } }, async (request, reply) => {
    const reader = await lite.member(request);
    return lite.send(
      reply,
      'Chat',
      html`<h1>Chat</h1>
        <p class="meta">
          This page reloads itself every ${CHAT_REFRESH_SECONDS} seconds.
          <a href="/lite/chat/say/">Say something</a>
        </p>
        ${await latest(reader)}`,
      reader,
      { refreshSeconds: CHAT_REFRESH_SECONDS },
    );
  });

  r.get('/lite/chat/say/', { schema: { hide: true } }, async (request, reply) => {
    const reader = await lite.member(request);
    return lite.send(
      reply,
      'Say something',
      html`<h1>Say something</h1>
        <form method="post" action="/lite/chat/say/">
          ${csrfInput(reader)}
          <p>
            <label for="text">Your line</label><br /><input
              id="text"
              name="text"
              type="text"
              maxlength="2000"
              required
            />
          </p>
          <p><button type="submit">Send</button> <a href="/lite/chat/">Back to the chat</a></p>
        </form>
        ${await latest(reader)}`,
      reader,
    );
  });

  r.post(
    '/lite/chat/say/',
    {
      schema: {
        hide: true,
        body: z.strictObject({ text: z.string().max(8000), csrf: csrfField }),
      },
    },
    async (request, reply) => {
      const session = await formSession(ctx, request, request.body.csrf);
      const { text } = parseInput(ChatPost, { text: request.body.text });
      await ctx.chat.post(session, await ctx.chat.chatBoard(), {
        subject: 'AxonChat',
        body: text,
      });
      return seeOther(reply, '/lite/chat/');
    },
  );
}
