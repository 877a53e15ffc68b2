// GET /api/health (database and background services) and GET /metrics (Prometheus).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { torStatus, type TorStatus } from '../modules/federation/tor.js';
import { FederationSummary } from '../modules/federation/peer-schema.js';
import { registerFederationMetrics } from '../modules/federation/metrics.js';
import { envelopeOf, ok } from './envelope.js';
import { sendError } from './error-handler.js';
import { forbidden, unauthorized } from './errors.js';
import { chunkStoreOf, degradedReasons, diskOf } from './health-checks.js';
import { registerInstanceMetrics } from './instance-metrics.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const digest = (value: string) => createHash('sha256').update(value).digest();

const HealthData = z.object({
  status: z.enum(['healthy', 'degraded']),
  /** Why the status is `degraded`, in words; empty when healthy. */
  reasons: z.array(z.string()),
  database: z.object({ dialect: z.string(), status: z.enum(['connected', 'unreachable']) }),
  services: z.record(z.string(), z.string()),
  federation: FederationSummary.nullable(),
  uptime_seconds: z.number(),
  /** The Tor onion service (AXON_TOR_DIR, AXON_TOR_SOCKS); nulls when not configured. */
  tor: z.object({ onion_address: z.string().nullable(), socks_ok: z.boolean().nullable() }),
  /** Free and total bytes of the data directory's file system (null when unreadable). */
  disk: z.object({ free_bytes: z.number().nullable(), total_bytes: z.number().nullable() }),
  chunk_store: z.enum(['ok', 'unwritable']),
  /** Jobs run once across processes (retention, clean-ups): counts and the last run. */
  background_jobs: z.array(
    z.object({
      name: z.string(),
      runs: z.number(),
      failures: z.number(),
      last_started_at: z.number().nullable(),
      last_finished_at: z.number().nullable(),
      last_error: z.string().nullable(),
    }),
  ),
});

export async function observabilityRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'axon_' });
  const requests = new Counter({
    name: 'axon_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'axon_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const federationScrape = registerFederationMetrics(registry, ctx);
  const instance = registerInstanceMetrics(registry, ctx);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode < 300) instance.answered(route, reply.getHeader('content-length'));
    // The one log line per request (the logger adds reqId): never an address, a query or a header.
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  // Anyone may ask for /api/health: Tor's SOCKS port is probed at most every 10 s, not per request.
  let torChecked: { at: number; status: Promise<TorStatus> } | undefined;
  const tor = () => {
    if (torChecked === undefined || Date.now() - torChecked.at > 10_000) {
      torChecked = { at: Date.now(), status: torStatus(ctx.config) };
    }
    return torChecked.status;
  };

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Database and background service status; 503 when the database is unreachable',
        response: { 200: envelopeOf(HealthData) },
      },
    },
    async (_request, reply) => {
      const database = await ctx.database.ping().then(
        () => 'connected' as const,
        () => 'unreachable' as const,
      );
      const [torNow, disk, chunkStore] = await Promise.all([
        tor(),
        diskOf(ctx.config.dataDir),
        chunkStoreOf(ctx.config),
      ]);
      const services = ctx.services.status();
      const jobs = database === 'connected' ? await ctx.jobs.list() : [];
      const reasons = degradedReasons({
        jobs,
        database,
        disk,
        chunkStore,
        services,
        socksOk: torNow.socks_ok,
      });
      const data = {
        status: reasons.length === 0 ? ('healthy' as const) : ('degraded' as const),
        reasons,
        database: { dialect: ctx.database.dialect, status: database },
        services,
        federation:
          database === 'connected'
            ? await ctx.federationHealth.recentSummary(() => ctx.peers.all())
            : null,
        uptime_seconds: Math.round(process.uptime()),
        tor: torNow,
        disk,
        chunk_store: chunkStore,
        background_jobs: jobs,
      };
      if (database !== 'connected') {
        return sendError(reply, 503, {
          code: 'SERVICE_UNAVAILABLE',
          message: 'the database is unreachable',
          details: data,
        });
      }
      return ok(data);
    },
  );

  // With a token: the token, compared in constant time (as digests, so its length does not show
  // either). Without: loopback callers only (behind Tor everyone is loopback: set a token there).
  const expected =
    ctx.config.metricsToken === undefined ? undefined : digest(`Bearer ${ctx.config.metricsToken}`);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected !== undefined) {
      if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected))
        throw unauthorized('metrics need the AXON_METRICS_TOKEN bearer token');
    } else if (!LOOPBACK.has(request.socket.remoteAddress ?? '')) {
      throw forbidden('metrics are served to loopback only unless AXON_METRICS_TOKEN is set');
    }
    federationScrape();
    instance.newScrape();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
