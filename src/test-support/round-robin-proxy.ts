// A round-robin HTTP proxy on loopback for tests of several server processes: each request goes to
// the next upstream in turn, streamed both ways (long polls and SSE stay open through it), and the
// proxy records which upstream answered each request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  url: string;
  /** The upstream index that answered each request, in arrival order. */
  servedBy: number[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(upstreams: readonly string[]): Promise<RoundRobinProxy> {
  const servedBy: number[] = [];
  let next = 0;
  const server = http.createServer((request, response) => {
    const index = next++ % upstreams.length;
    servedBy.push(index);
    const target = new URL(request.url ?? '/', upstreams[index]);
    const forwarded = http.request(
      target,
      { method: request.method, headers: { ...request.headers, host: target.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => {
      if (!response.headersSent) response.writeHead(502).end();
      else response.destroy();
    });
    response.on('close', () => forwarded.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    servedBy,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
