// Attachment replication: a post on A carrying the attachment, timed until B has fetched every
// chunk from A, verified it and stored it (its content state is `complete`), directly and with B
// reaching A through a microsocks SOCKS5 proxy. Beside each, its reference: one HTTP download of
// the same bytes from A's own content route over the same path (loopback, or the same proxy), read
// as a lean client reads it (one socket, one reused buffer).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseSocksUrl, socksConnect } from '../../src/server/modules/federation/socks5.js';
import { startMicrosocks } from '../../src/test-support/socks.js';
import {
  call,
  launchInstance,
  register,
  shareStar,
  trust,
  type BenchInstance,
} from './instances.js';
import { ATTACHMENT_BYTES, MiB } from './options.js';
import { attachmentFloorMiBs } from './attachment-floor.js';

export interface AttachmentFigures {
  /** MiB/s of the raw downloads. */
  direct: number;
  socks: number;
  /** MiB/s from the post on A until B holds the verified content. */
  federatedDirect: number;
  federatedSocks: number;
  /** MiB/s of the per-chunk work the protocol demands, in-process (attachment-floor.ts). */
  floor: number;
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

/**
 * Starts B, makes A and B peers (B reaching A through `proxyUrl` when given), shares a board, posts
 * the attachment on A and resolves with MiB/s from the post until B's copy is complete.
 */
async function federatedFetch(
  a: BenchInstance,
  token: string,
  hash: string,
  room: string,
  proxyUrl?: string,
): Promise<number> {
  const b = await launchInstance(`b-${room}`, {
    AXON_PEER_MAX_ATTACHMENT_BYTES: String(ATTACHMENT_BYTES + MiB),
    AXON_PEER_BYTES_PER_DAY: String(4 * ATTACHMENT_BYTES),
  });
  try {
    await trust(a, b);
    await trust(b, a);
    if (proxyUrl !== undefined)
      await b.database.db
        .updateTable('peers')
        .set({ transport: 'socks5', proxy_url: proxyUrl })
        .where('fingerprint', '=', a.identity.fingerprint)
        .execute();
    const boards = await shareStar(room, a, [b]);
    const started = performance.now();
    await call(a.url, '/api/messages/', {
      method: 'POST',
      token,
      body: { board_id: boards.get(a), subject: room, body: 'an attachment', attachments: [hash] },
    });
    for (;;) {
      // 404 until the message carrying it has reached B.
      const answer = await fetch(`${b.url}/api/content/state/${hash}/`);
      if (answer.status === 200) {
        const { data } = (await answer.json()) as {
          data: { state: string; last_error: string | null };
        };
        if (data.state === 'complete') break;
        if (data.state !== 'pending' && data.state !== 'absent')
          throw new Error(`B's fetch ended ${data.state}: ${data.last_error ?? ''}`);
      } else if (answer.status !== 404) {
        throw new Error(`content state on B: ${answer.status} ${await answer.text()}`);
      } else {
        await answer.arrayBuffer();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return ATTACHMENT_BYTES / MiB / ((performance.now() - started) / 1000);
  } finally {
    await b.close();
  }
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
    const federatedDirect = await federatedFetch(a, token, hash, 'files-direct');
    const federatedSocks = await federatedFetch(a, token, hash, 'files-socks', proxy.url);
    const floor = await attachmentFloorMiBs(ATTACHMENT_BYTES);
    return { direct, socks, federatedDirect, federatedSocks, floor };
  } finally {
    await proxy.stop();
  }
}
