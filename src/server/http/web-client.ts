// Serves the built web client (dist/web): index.html for `/` and for deep links into the client's
// sections, hashed assets with long-lived caching, each compressed (brotli, gzip) once per process
// on the first request that accepts it, since Tor circuits are slow. Without a build, `/` says how
// to make one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip as gzipCallback } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WEB_CLIENT_SECTIONS } from '../../shared/web-routes.js';
import type { AppContext } from '../context.js';
import { formatFingerprint } from '../modules/federation/identity.js';
import type { ClientPage } from './error-handler.js';
import { notFound } from './errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json']);
const ASSET_NAME = /^[\w.-]+$/;

interface StaticFile {
  type: string;
  raw: Buffer;
  compressible: boolean;
  /** Each encoding is made once, on the first request that accepts it, on the thread pool. */
  encoded: Map<'br' | 'gzip', Promise<Buffer>>;
}

const brotli = promisify(brotliCompress);
const gzip = promisify(gzipCallback);

function loadFile(file: string): StaticFile {
  const ext = path.extname(file);
  const raw = readFileSync(file);
  return {
    type: TYPES[ext] ?? 'application/octet-stream',
    raw,
    compressible: COMPRESSIBLE.has(ext) && raw.length > 512,
    encoded: new Map(),
  };
}

function encodedAs(file: StaticFile, encoding: 'br' | 'gzip'): Promise<Buffer> {
  let body = file.encoded.get(encoding);
  if (body === undefined) {
    body =
      encoding === 'br'
        ? brotli(file.raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } })
        : gzip(file.raw, { level: 9 });
    file.encoded.set(encoding, body);
  }
  return body;
}

async function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cache: string) {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  void reply
    .header('Content-Type', file.type)
    .header('Cache-Control', cache)
    .header('Vary', 'Accept-Encoding');
  const encoding = !file.compressible
    ? undefined
    : /\bbr\b/.test(accepted)
      ? 'br'
      : /\bgzip\b/.test(accepted)
        ? 'gzip'
        : undefined;
  if (encoding === undefined) return reply.send(file.raw);
  return reply.header('Content-Encoding', encoding).send(await encodedAs(file, encoding));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page `/` shows when the client was not built: which instance this is and how to build. */
function notBuiltPage(ctx: AppContext): string {
  const { nickname, fingerprint } = ctx.identity;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Axon BBS: ${escapeHtml(nickname)}</title></head>
<body>
<h1>Axon BBS</h1>
<p>Instance <strong>${escapeHtml(nickname)}</strong>, fingerprint <code>${escapeHtml(formatFingerprint(fingerprint))}</code>.</p>
<p>The web client is not built here: run <code>npm run build</code> (or <code>npm start</code>, which builds it).</p>
<p>The API is up: see <a href="/api/docs">/api/docs</a> (OpenAPI) and <a href="/api/health">/api/health</a>.</p>
</body>
</html>
`;
}

/**
 * The client's routes; answers how to send the client's page (for unknown paths a browser asks
 * for), or undefined when the client is not built.
 */
export async function webClientRoutes(
  app: FastifyInstance,
  ctx: AppContext,
): Promise<ClientPage | undefined> {
  const dir = ctx.config.webDir;
  const indexPath = path.join(dir, 'index.html');
  if (!existsSync(indexPath)) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(notBuiltPage(ctx)),
    );
    return undefined;
  }
  const index = loadFile(indexPath);
  const assets = new Map<string, StaticFile>();
  const assetsDir = path.join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir))
      assets.set(name, loadFile(path.join(assetsDir, name)));
  }
  const topLevel = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    if (name !== 'index.html' && ASSET_NAME.test(name) && path.extname(name) !== '') {
      topLevel.set(name, loadFile(path.join(dir, name)));
    }
  }

  // The page itself is revalidated every time, so a new build reaches readers at once; assets are
  // named by their content hash and never change.
  const page = (request: FastifyRequest, reply: FastifyReply) =>
    send(request, reply, index, 'no-cache');
  app.get('/', { schema: { hide: true } }, page);
  for (const section of WEB_CLIENT_SECTIONS) {
    app.get(`/${section}`, { schema: { hide: true } }, page);
    app.get(`/${section}/*`, { schema: { hide: true } }, page);
  }
  app.get<{ Params: { name: string } }>(
    '/assets/:name',
    { schema: { hide: true } },
    async (request, reply) => {
      const file = ASSET_NAME.test(request.params.name)
        ? assets.get(request.params.name)
        : undefined;
      if (file === undefined) throw notFound('file');
      return send(request, reply, file, 'public, max-age=31536000, immutable');
    },
  );
  for (const [name, file] of topLevel) {
    app.get(`/${name}`, { schema: { hide: true } }, async (request, reply) =>
      send(request, reply, file, 'public, max-age=86400'),
    );
  }
  return page;
}
