// GET /: a plain page that tells a visitor which instance this is, until the web client lands.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { formatFingerprint } from '../modules/federation/identity.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function homeRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const { nickname, fingerprint } = ctx.identity;
    const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Axon BBS: ${escapeHtml(nickname)}</title></head>
<body>
<h1>Axon BBS</h1>
<p>Instance <strong>${escapeHtml(nickname)}</strong>, fingerprint <code>${escapeHtml(formatFingerprint(fingerprint))}</code>.</p>
<p>The API is up: see <a href="/api/docs">/api/docs</a> (OpenAPI) and <a href="/api/health">/api/health</a>.</p>
</body>
</html>
`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
