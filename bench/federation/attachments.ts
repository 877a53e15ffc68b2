// Attachment replication. Fetching an attachment's bytes from another instance is not on this
// branch (fed-attach builds it), so the federated figure is reported as not available, and only
// its references are measured: one HTTP download of the same bytes from A's own content route,
// straight over loopback and through a microsocks SOCKS5 proxy (the path a federated fetch over
// a proxy takes), each read as a lean client reads it (one socket, one reused buffer).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseSocksUrl, socksConnect } from '../../src/server/modules/federation/socks5.js';
import { startMicrosocks } from '../../src/test-support/socks.js';
import { register, type BenchInstance } from './instances.js';
import { ATTACHMENT_BYTES, MiB } from './options.js';

export const FEDERATED_ATTACHMENTS =
  'not available: fetching attachments from another instance is not on this branch (fed-attach)';

export interface AttachmentFigures {
  /** MiB/s. */
  direct: number;
  socks: number;
}

/** `total` bytes in 1 MiB pieces, each a random MiB with its index stamped in (never all in memory). */
async function* pieces(total: number): AsyncGenerator<Buffer> {
  const seed = randomBytes(MiB);
  for (let offset = 0, index = 0; offset < total; offset += MiB, index++) {
    const piece = Buffer.from(seed.subarray(0, Math.min(MiB, total - offset)));
    piece.writeUInt32BE(index, 0);
    yield piece;
  }
}

/** Uploads `total` bytes to A as one multipart file; resolves with its content hash. */
async function upload(a: BenchInstance, token: string, total: number): Promise<string> {
  const boundary = `axon-federation-bench-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="bench.bin"\r\n` +
      'content-type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const request = http.request(`${a.url}/api/content/upload/`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + total + tail.length,
    },
  });
  const answer = new Promise<string>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 201)
          reject(new Error(`upload: ${response.statusCode} ${body}`));
        else resolve((JSON.parse(body) as { data: { content_hash: string } }).data.content_hash);
      });
    });
  });
  await pipeline(async function* () {
    yield head;
    yield* pieces(total);
    yield tail;
  }, request);
  return answer;
}

/** Sends a GET on a connected socket and counts the body; resolves with MiB/s from the request. */
function download(socket: net.Socket, url: URL, token: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let head = Buffer.alloc(0);
    let body = -1;
    socket.on('data', (chunk: Buffer) => {
      if (body < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = head.subarray(0, 12).toString('latin1');
        if (!status.endsWith(' 200')) {
          socket.destroy(new Error(`download: ${head.subarray(0, end).toString('latin1')}`));
          return;
        }
        body = head.length - end - 4;
      } else {
        body += chunk.length;
      }
      if (body >= total) socket.end();
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (body !== total) reject(new Error(`downloaded ${body} bytes, not ${total}`));
      else resolve(total / MiB / ((performance.now() - started) / 1000));
    });
    socket.write(
      `GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n` +
        `authorization: Bearer ${token}\r\nconnection: close\r\n\r\n`,
    );
  });
}

export async function runAttachments(a: BenchInstance): Promise<AttachmentFigures> {
  const token = await register(a, 'uploader');
  const hash = await upload(a, token, ATTACHMENT_BYTES);
  const url = new URL(`${a.url}/api/content/stream/${hash}/`);
  const target = { host: url.hostname, port: Number(url.port) };
  const direct = await download(net.connect(target), url, token, ATTACHMENT_BYTES);
  const proxy = await startMicrosocks();
  try {
    const tunnel = await socksConnect(parseSocksUrl(proxy.url), target, 30_000);
    const socks = await download(tunnel, url, token, ATTACHMENT_BYTES);
    return { direct, socks };
  } finally {
    await proxy.stop();
  }
}
