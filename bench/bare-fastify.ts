// The benches' reference app: Fastify with defaults and one route answering a constant, in its own
// process as the Axon server is, so both compete for the cores with the load generator alike.
// AXON_BENCH_WORKERS above 1 runs that many processes on one port through node:cluster, as
// `axon start --workers` does; AXON_BENCH_BODY_FILE, when set, names the JSON that GET / answers.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

const workers = Number(process.env.AXON_BENCH_WORKERS ?? '1');
const announce = (port: number) => process.stdout.write(`listening at http://127.0.0.1:${port}\n`);

if (workers > 1 && cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) announce(address.port);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const file = process.env.AXON_BENCH_BODY_FILE;
  const page = file === undefined ? undefined : readFileSync(file, 'utf8');
  const constant = {
    success: true,
    data: { ok: true },
    error: null,
    timestamp: '2000-01-01T00:00:00.000Z',
  };
  const app = Fastify({ logger: false });
  app.get('/', async (_request, reply) =>
    page === undefined ? constant : reply.type('application/json; charset=utf-8').send(page),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  if (workers === 1) announce((app.server.address() as AddressInfo).port);
}
