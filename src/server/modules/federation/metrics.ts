// Prometheus gauges of federation health, one series per peer (labelled by its nickname and the
// first 16 hex digits of its fingerprint), read from the database at each scrape.
import { Gauge, type Registry } from 'prom-client';
import type { AppContext } from '../../context.js';
import { PEER_STATES, type PeerHealthReport } from './health.js';
import { sharedRead } from '../../http/scrape.js';

type Numeric = {
  [K in keyof PeerHealthReport]: PeerHealthReport[K] extends number ? K : never;
}[keyof PeerHealthReport];

const GAUGES: Array<{ name: string; help: string; value: (h: PeerHealthReport) => number | null }> =
  [
    {
      name: 'queue_objects',
      help: 'Log entries waiting for the peer',
      value: (h) => h.queue_length,
    },
    {
      name: 'lag_seconds',
      help: 'Age of the oldest object the peer has not acknowledged',
      value: (h) => h.lag_seconds,
    },
    {
      name: 'consecutive_failures',
      help: 'Failed attempts in a row',
      value: (h) => h.consecutive_failures,
    },
    ...(
      [
        ['objects_out', 'Objects the peer acknowledged'],
        ['bytes_out', 'Bytes delivered to the peer'],
        ['objects_in', 'Objects received from the peer'],
        ['bytes_in', 'Bytes received from the peer'],
        ['refused_in', 'Objects from the peer refused'],
        ['chunk_fetches_pending', 'Attachment chunk fetches waiting on the peer'],
      ] as Array<[Numeric, string]>
    ).map(([key, help]) => ({ name: key, help, value: (h: PeerHealthReport) => h[key] })),
    {
      name: 'last_success_timestamp_seconds',
      help: 'When the peer last answered successfully',
      value: (h) => (h.last_success_at === null ? null : h.last_success_at / 1000),
    },
  ];

const LABELS = ['peer', 'fingerprint'] as const;

/** Registers the gauges; returns what /metrics calls before each scrape. */
export function registerFederationMetrics(registry: Registry, ctx: AppContext): () => void {
  // Every gauge waits for one shared read of the registry and health per scrape.
  const { collect, newScrape } = sharedRead(read);
  const state = new Gauge({
    collect,
    name: 'axon_federation_peer_state',
    help: 'The peer’s health state: 1 for its current state, 0 for the others',
    labelNames: [...LABELS, 'state'],
    registers: [registry],
  });
  const gauges = GAUGES.map(
    (g) =>
      [
        g,
        new Gauge({
          name: `axon_federation_peer_${g.name}`,
          help: g.help,
          labelNames: LABELS,
          registers: [registry],
          collect,
        }),
      ] as const,
  );
  async function read(): Promise<void> {
    const peers = await ctx.peers.all();
    const health = await ctx.federationHealth.of(peers);
    state.reset();
    for (const [, gauge] of gauges) gauge.reset();
    for (const peer of peers) {
      const h = health.get(peer.fingerprint)!;
      const labels = { peer: peer.nickname, fingerprint: peer.fingerprint.slice(0, 16) };
      for (const s of PEER_STATES) state.set({ ...labels, state: s }, s === h.state ? 1 : 0);
      for (const [g, gauge] of gauges) {
        const value = g.value(h);
        if (value !== null) gauge.set(labels, value);
      }
    }
  }
  return newScrape;
}
