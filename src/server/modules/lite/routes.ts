// Axon without JavaScript (docs/lite.md): server-rendered pages under /lite/ for Tor Browser's
// "Safest" level, from the same services and the same Markdown renderer as the API. No script at
// all, nothing loaded from elsewhere, forms post only here. This file sets up what every page
// shares (headers, error pages, the form parser, the stylesheet); each area has its own file.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { describeError } from '../../http/error-handler.js';
import { AppError } from '../../http/errors.js';
import { accountRoutes } from './accounts.js';
import { html } from './html.js';
import { FORM_BODY_LIMIT, liteOf } from './pages.js';
import { chatRoutes } from './chat.js';
import { moderationRoutes } from './moderation.js';
import { privateMessageRoutes } from './private.js';
import { profileRoutes } from './profile.js';
import { LITE_CSS } from './style.js';
import { threadRoutes } from './threads.js';

/** No script at all; styles and images from this origin only; forms post here only. */
export const LITE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

export async function liteRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    const lite = liteOf(ctx);

    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply
        .header('Content-Security-Policy', LITE_CSP)
        .header('Cache-Control', 'no-store')
        .header('Referrer-Policy', 'no-referrer');
      return payload;
    });

    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const { status, body } = describeError(error, request);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      const title = status === 404 ? 'Not found' : status < 500 ? 'Cannot do that' : 'Server error';
      return lite.send(
        reply,
        title,
        html`<h1>${title}</h1>
          <p class="notice">${body.message}</p>
          <p><a href="/lite/">Back to the boards</a></p>`,
        null,
        { status },
      );
    });

    // Forms post application/x-www-form-urlencoded; nothing else is read here.
    scope.addContentTypeParser(
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

    scope.get('/lite/style.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(LITE_CSS),
    );

    threadRoutes(scope, lite);
    accountRoutes(scope, lite);
    moderationRoutes(scope, lite);
    privateMessageRoutes(scope, lite);
    chatRoutes(scope, lite);
    profileRoutes(scope, lite);
  });
}
