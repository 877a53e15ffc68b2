// The chat bench's floor: what this machine gives the same clients when the server does nothing
// but the fan-out. A bare node:http server with the three routes the clients use and no database,
// no signature, no authentication: a POST writes one event (of the size of Axon's) to every open
// stream and answers every parked long poll, in one loop. Axon cannot beat it on this machine; the
// difference between the two is what Axon's own work costs.
//
// AXON_BENCH_WORKERS=2 runs it as two processes on one port (node:cluster hands connections out
// in turn, as `axon start --workers 2` does): a POST goes to the primary, which numbers the event
// and hands it to every worker, as PostgreSQL's NOTIFY hands Axon's to every process; the worker
// that took the POST answers once its own copy arrives.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FloorEvent {
  cursor: string;
  id: string;
  board_id: string;
  subject: string;
  body: string;
  body_html: string;
  author: { fingerprint: string; nickname: string; user_id: string; avatar_url: null };
  created_at: string;
  created_at_local: string;
}
/** From a worker to the primary: a POST to number and hand out. */
interface Posted {
  request: string;
}
/** From the primary to every worker: the numbered event, and which POST it answers. */
interface Published {
  request: string;
  event: FloorEvent;
}

const workers = Number(process.env.AXON_BENCH_WORKERS ?? '1');
const board = process.env.AXON_BENCH_FLOOR_BOARD ?? randomUUID();
const user = process.env.AXON_BENCH_FLOOR_USER ?? randomUUID();
const announce = (port: number) => console.log(`Axon BBS is up at http://127.0.0.1:${port}`);

function numbered(cursor: number): FloorEvent {
  const at = new Date();
  const text = `bench event ${cursor - 1}`;
  return {
    cursor: String(cursor),
    id: randomUUID(),
    board_id: board,
    subject: 'AxonChat',
    body: text,
    body_html: `<p>${text}</p>`,
    author: { fingerprint: 'f'.repeat(64), nickname: 'bench', user_id: user, avatar_url: null },
    created_at: at.toISOString(),
    created_at_local: at.toISOString().slice(0, 19).replace('T', ' '),
  };
}

function answer(res: ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify({ success: true, data, error: null });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** One process's clients: open streams, parked long polls, and the events it has seen. */
function serve(publish: (request: string) => void): (published: Published) => void {
  const streams = new Set<ServerResponse>();
  const parked = new Set<ServerResponse>();
  const posts = new Map<string, ServerResponse>();
  const events: FloorEvent[] = [];
  const after = (cursor: number) => events.filter((e) => Number(e.cursor) > cursor).slice(0, 100);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://floor');
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        const request = randomUUID();
        posts.set(request, res);
        publish(request);
      });
      return;
    }
    const cursor = Number(url.searchParams.get('after') ?? events.length);
    if (url.pathname.endsWith('/stream/')) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write('retry: 3000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const ready = after(cursor);
    if (ready.length > 0 || url.searchParams.get('wait') === null) {
      answer(res, 200, {
        events: ready,
        next_cursor: String(ready.at(-1)?.cursor ?? events.length),
      });
      return;
    }
    parked.add(res);
    req.on('close', () => parked.delete(res));
  });
  server.listen(0, '127.0.0.1', () => {
    if (workers === 1) announce((server.address() as AddressInfo).port);
  });

  return ({ request, event }) => {
    events.push(event);
    const frame = `id: ${event.cursor}\nevent: message\ndata: ${JSON.stringify(event)}\n\n`;
    for (const stream of streams) {
      stream.write(frame);
      stream.socket?.uncork();
    }
    for (const poll of parked) answer(poll, 200, { events: [event], next_cursor: event.cursor });
    parked.clear();
    const post = posts.get(request);
    if (post !== undefined) {
      posts.delete(request);
      answer(post, 201, event);
    }
  };
}

if (workers === 1) {
  let count = 0;
  const deliver: (published: Published) => void = serve((request) =>
    deliver({ request, event: numbered(++count) }),
  );
} else if (cluster.isPrimary) {
  let count = 0;
  let listening = 0;
  const forked = Array.from({ length: workers }, () =>
    cluster.fork({ AXON_BENCH_FLOOR_BOARD: board, AXON_BENCH_FLOOR_USER: user }),
  );
  for (const worker of forked) {
    worker.on('message', ({ request }: Posted) => {
      const published: Published = { request, event: numbered(++count) };
      for (const each of forked) each.send(published);
    });
  }
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) announce(address.port);
  });
} else {
  const deliver = serve((request) => process.send!({ request } satisfies Posted));
  process.on('message', (published: Published) => deliver(published));
}
