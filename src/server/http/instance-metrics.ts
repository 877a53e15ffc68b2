// Prometheus series about the instance's own work, beside the HTTP and federation ones: realtime
// events handed out and clients waiting, BitSync bytes stored, fetched from peers and served, the
// bytes held by the page cache, and the runs and failures of the shared background jobs. Counts
// that all processes share (jobs, bytes stored or fetched) are read from the database at each
// scrape; the others are this process's.
import { sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { parseChannel } from '../modules/realtime/channels.js';
import { sharedRead } from './scrape.js';

/** Routes whose answers are BitSync content, and to whom they go. */
const CONTENT_ROUTES: Record<string, 'client' | 'peer'> = {
  '/api/content/stream/:hash/': 'client',
  '/api/federation/chunks/:hash': 'peer',
};

export interface InstanceMetrics {
  /** Counts the bytes of an answer when its route serves content. */
  answered(route: string, contentLength: unknown): void;
  /** The database is read again at the next scrape. */
  newScrape(): void;
}

export function registerInstanceMetrics(registry: Registry, ctx: AppContext): InstanceMetrics {
  const events = new Counter({
    name: 'axon_realtime_events_total',
    help: 'Events published on realtime channels in this process (board: chat and posts)',
    labelNames: ['channel'] as const,
    registers: [registry],
  });
  ctx.hub.watchAll((name, seq) => {
    const channel = parseChannel(name);
    if (channel !== undefined && seq > 0) events.inc({ channel: channel.kind });
  });
  new Gauge({
    name: 'axon_realtime_waiting_clients',
    help: 'SSE streams and parked long polls open on this process',
    registers: [registry],
    collect() {
      this.set(ctx.realtime.connections.size);
    },
  });
  new Gauge({
    name: 'axon_cache_bytes',
    help: 'Bytes held by a cache of this process',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      this.set({ cache: 'board_pages' }, ctx.realtime.pages.bytes);
    },
  });
  const served = new Counter({
    name: 'axon_bitsync_served_bytes_total',
    help: 'Bytes of content answered by this process, to clients and to peers',
    labelNames: ['to'] as const,
    registers: [registry],
  });
  // One read of the database per scrape, shared by the gauges below.
  const { collect, newScrape } = sharedRead(read);
  const stored = new Gauge({
    name: 'axon_bitsync_stored_bytes',
    help: 'Bytes of content held: uploaded here (local) or fetched from peers (remote)',
    labelNames: ['origin'] as const,
    registers: [registry],
    collect,
  });
  const fetched = new Gauge({
    name: 'axon_bitsync_fetched_bytes',
    help: 'Bytes of content fetched from peers so far (every process)',
    registers: [registry],
    collect,
  });
  const runs = new Gauge({
    name: 'axon_background_job_runs',
    help: 'Runs of a shared background job, across processes',
    labelNames: ['job'] as const,
    registers: [registry],
    collect,
  });
  const failures = new Gauge({
    name: 'axon_background_job_failures',
    help: 'Failed runs of a shared background job, across processes',
    labelNames: ['job'] as const,
    registers: [registry],
    collect,
  });
  async function read(): Promise<void> {
    const db = ctx.database.db;
    const [sizes, fetches, jobs] = await Promise.all([
      db
        .selectFrom('manifests')
        .select([
          sql<number>`coalesce(sum(case when content_hash in (select content_hash from remote_fetches) then size else 0 end), 0)`.as(
            'remote',
          ),
          sql<number>`coalesce(sum(size), 0)`.as('total'),
        ])
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('remote_fetches')
        .select(sql<number>`coalesce(sum(bytes_fetched), 0)`.as('bytes'))
        .executeTakeFirstOrThrow(),
      ctx.jobs.list(),
    ]);
    stored.set({ origin: 'remote' }, Number(sizes.remote));
    stored.set({ origin: 'local' }, Number(sizes.total) - Number(sizes.remote));
    fetched.set(Number(fetches.bytes));
    runs.reset();
    failures.reset();
    for (const job of jobs) {
      runs.set({ job: job.name }, job.runs);
      failures.set({ job: job.name }, job.failures);
    }
  }
  return {
    newScrape,
    answered(route, contentLength) {
      const to = CONTENT_ROUTES[route];
      const bytes = Number(contentLength);
      if (to !== undefined && Number.isFinite(bytes) && bytes > 0) served.inc({ to }, bytes);
    },
  };
}
