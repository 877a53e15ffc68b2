// Items 1 and 2, under load with autocannon: a 50-message page beside a bare Fastify route, and
// posting throughput beside raw RSA-PSS signing in this process.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { messageObject, type Message } from '../../src/server/modules/boards/messages.js';
import { RSA_BITS } from '../../src/crypto/keys.js';
import autocannon from 'autocannon';
import { signObject } from '../../src/crypto/signing.js';
import { v7 as uuidv7 } from 'uuid';
import {
  LOAD_CONNECTIONS,
  LOAD_SECONDS,
  LOAD_WARMUP_SECONDS,
  PAGE_LIMIT,
  POST_CONNECTIONS,
  POST_SECONDS,
  REQUEST_TIMEOUT_MS,
  SIGN_MAX_RUNS,
  SIGN_SECONDS,
} from './options.js';
import { UNCACHED, api, field, pageUrl } from './api.js';
import { percentile, say, startBareFastify } from '../support.js';
const generateRsa = promisify(generateKeyPair);

export interface LoadFigures {
  perSecond: number;
  p50: number;
  p99: number;
  responses: number;
  non2xx: number;
  errors: number;
  bytesPerResponse: number;
}

export function loadFigures(result: autocannon.Result): LoadFigures {
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    perSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    responses,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bytesPerResponse: responses === 0 ? 0 : result.throughput.total / responses,
  };
}

export async function getLoad(
  url: string,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadFigures> {
  const result = await autocannon({
    url,
    headers,
    connections: LOAD_CONNECTIONS,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
  });
  return loadFigures(result);
}

export async function pageUnderLoad(base: string, board: string) {
  const bare = await startBareFastify();
  try {
    const axonUrl = pageUrl(base, board);
    const first = await api(axonUrl);
    const items = field(first.data, 'items');
    if (!Array.isArray(items) || items.length !== PAGE_LIMIT) {
      throw new Error(`the page board's first page has no ${PAGE_LIMIT} items`);
    }
    say(`warming both up (${LOAD_WARMUP_SECONDS} s each)…`);
    await getLoad(`${bare.url}/`, LOAD_WARMUP_SECONDS);
    await getLoad(axonUrl, LOAD_WARMUP_SECONDS);
    say(`bare Fastify: ${LOAD_CONNECTIONS} connections for ${LOAD_SECONDS} s…`);
    const reference = await getLoad(`${bare.url}/`, LOAD_SECONDS);
    say(`Axon page of ${PAGE_LIMIT}: ${LOAD_CONNECTIONS} connections for ${LOAD_SECONDS} s…`);
    const axon = await getLoad(axonUrl, LOAD_SECONDS);
    say(`Axon page of ${PAGE_LIMIT}, cache bypassed (Cache-Control: no-cache)…`);
    const uncached = await getLoad(axonUrl, LOAD_SECONDS, UNCACHED);
    return { axon, uncached, reference };
  } finally {
    await bare.stop();
  }
}

// Posted text is English, so it cannot match a made-up search word; about the seeded size.
export const POST_BODY =
  'Posted by the throughput run of the boards benchmark, with enough words in it to weigh about ' +
  'what a short reply on a bulletin board would: two or three sentences of plain text.';

export async function postLoad(base: string, board: string, tokens: readonly string[]) {
  let n = 0;
  const result = await autocannon({
    url: `${base}/api/messages/`,
    connections: POST_CONNECTIONS,
    duration: POST_SECONDS,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const i = n++;
          return {
            ...request,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${tokens[i % tokens.length]!}`,
            },
            body: JSON.stringify({
              board_id: board,
              subject: `throughput post number ${i}`,
              body: `${POST_BODY} (${i})`,
            }),
          };
        },
      },
    ],
  });
  return loadFigures(result);
}

/** RSA-PSS signatures/s of a message object in this process, one at a time as the server signs. */
export async function signingReference() {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: RSA_BITS });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + SIGN_SECONDS * 1000;
  while (performance.now() < deadline && latencies.length < SIGN_MAX_RUNS) {
    const t0 = performance.now();
    const i = latencies.length;
    const message: Message = {
      seq: 0,
      id: uuidv7(),
      boardId: 'b',
      boardRef: 'b',
      parentId: null,
      threadId: 't',
      authorId: 'u',
      authorFingerprint: 'f',
      authorNickname: 'bench',
      authorInstance: null,
      subject: `throughput post number ${i}`,
      body: `${POST_BODY} (${i})`,
      attachments: [],
      signature: '',
      createdAt: Date.now(),
      deleted: null,
    };
    const { signature: _none, ...object } = messageObject(message, pem);
    signObject(object, der);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: latencies.length / seconds, p99: percentile(latencies, 99) };
}
