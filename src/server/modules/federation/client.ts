// The one outbound client for every call to a peer (DESIGN.md §7): signed requests, signed answers
// checked against the peer's pinned key, timeouts, a byte limit on answers, no redirects, and the
// peer's transport: direct, the global proxy (AXON_PROXY) or its own SOCKS5 proxy.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { parsePublicKey } from '../../../crypto/keys.js';
import type { PeerRow, PeerTransport } from '../../db/schema.js';
import { InstanceIdentity } from './schema.js';
import { newNonce, signRequest, verifyResponse } from './signing.js';
import { parseSocksUrl, socksConnector } from './socks5.js';

export type IdentityDocument = z.infer<typeof InstanceIdentity>;

/** What the client needs of a peer row. */
export type PeerAddress = Pick<PeerRow, 'base_url' | 'pubkey' | 'transport' | 'proxy_url'>;

export interface PeerTransportChoice {
  transport: PeerTransport;
  proxy_url: string | null;
}

export interface FederationClientOptions {
  /** AXON_PROXY: the global SOCKS5 proxy, also used for `.onion` peers of transport `direct`. */
  proxy: string | undefined;
  /** Largest answer read, in bytes, unless a request asks for less. */
  responseLimit: number;
  connectTimeoutMs: number;
  /** For the answer's headers, and between two pieces of its body. */
  timeoutMs: number;
}

export interface FederationRequest {
  method: 'GET' | 'POST';
  /** Path and query under the peer's base URL, e.g. `/api/federation/sync/?cursor=4`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Largest answer accepted for this request, in bytes (at most the client's limit). */
  maxBytes?: number;
}

export interface FederationResponse {
  status: number;
  body: Buffer;
  json<T>(): T;
}

/** A call to a peer that failed: unreachable, refused by the transport rules, or an answer not to trust. */
export class FederationError extends Error {
  constructor(
    message: string,
    /** The peer's HTTP status when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FederationError';
  }
}

/** A peer answered with an identity whose key is not RSA, or not the one its fingerprint names. */
export class IdentityInvalidError extends FederationError {
  constructor(message: string) {
    super(message, 200);
    this.name = 'IdentityInvalidError';
  }
}

const IDENTITY_LIMIT = 64 * 1024;
/** How long requests in flight may still take when the client closes (the process stops). */
const CLOSE_GRACE_MS = 2_000;

export class FederationClient {
  private readonly agents = new Map<string, Agent>();
  private readonly pubkeyDer: Buffer;
  private readonly peerKeys = new Map<string, KeyObject>();

  constructor(
    private readonly identity: { privateKey: KeyObject; pubkey: string },
    private readonly options: FederationClientOptions,
  ) {
    this.pubkeyDer = createPublicKey(identity.pubkey).export({ type: 'spki', format: 'der' });
  }

  /** A signed request to the peer; the answer must carry a valid signature by the peer's key. */
  async request(peer: PeerAddress, request: FederationRequest): Promise<FederationResponse> {
    const url = peerUrl(peer.base_url, request.path);
    const body =
      request.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(JSON.stringify(request.body), 'utf8');
    const host = url.host.toLowerCase();
    const pathAndQuery = `${url.pathname}${url.search}`;
    const nonce = newNonce();
    const headers: Record<string, string> = {
      host,
      accept: 'application/json',
      ...signRequest(
        { privateKey: this.identity.privateKey, pubkeyDer: this.pubkeyDer },
        { method: request.method, pathAndQuery, host, body },
        Date.now(),
        nonce,
      ),
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const answer = await this.send(peer, url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : body,
      maxBytes: Math.min(
        request.maxBytes ?? this.options.responseLimit,
        this.options.responseLimit,
      ),
    });
    const signature = answer.headers['x-signature'];
    if (
      typeof signature !== 'string' ||
      !verifyResponse(this.peerKey(peer.pubkey), nonce, answer.status, answer.body, signature)
    ) {
      throw new FederationError(
        `${url.origin} answered ${answer.status} without a valid signature by the peer's pinned key`,
        answer.status,
      );
    }
    return response(answer.status, answer.body);
  }

  /** GET /api/federation/identity/ (unsigned), checked to be a well-formed identity whose fingerprint is its key's. */
  async fetchIdentity(baseUrl: string, transport: PeerTransportChoice): Promise<IdentityDocument> {
    const url = peerUrl(baseUrl, '/api/federation/identity/');
    const answer = await this.send({ base_url: baseUrl, ...transport }, url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      maxBytes: IDENTITY_LIMIT,
    });
    if (answer.status !== 200) {
      throw new FederationError(
        `${url.href} answered ${answer.status}, not an identity`,
        answer.status,
      );
    }
    let identity: IdentityDocument;
    try {
      const envelope = JSON.parse(answer.body.toString('utf8')) as { data?: unknown };
      identity = InstanceIdentity.parse(envelope.data);
    } catch {
      throw new FederationError(`${url.href} did not answer with an identity document`, 200);
    }
    let key: { pem: string; fingerprint: string };
    try {
      key = parsePublicKey(identity.pubkey);
    } catch {
      throw new IdentityInvalidError(
        `${url.href} answered with a key that is not an RSA public key`,
      );
    }
    if (key.fingerprint !== identity.fingerprint) {
      throw new IdentityInvalidError(
        `${url.href} answered with a fingerprint that is not its key's`,
      );
    }
    return { ...identity, pubkey: key.pem };
  }

  /**
   * Ends the connection pools: no new request is sent, those in flight get CLOSE_GRACE_MS to
   * finish, then are aborted (delivery resends from its cursor, fetches resume from the store), so
   * a peer that does not answer cannot hold a shutdown for the whole read timeout.
   */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(
      agents.map(async (agent) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS);
        });
        const closed = agent.close().then(
          () => false,
          () => false,
        );
        if (await Promise.race([closed, late])) await agent.destroy();
        clearTimeout(timer);
      }),
    );
  }

  private async send(
    peer: Pick<PeerAddress, 'base_url'> & PeerTransportChoice,
    url: URL,
    request: {
      method: 'GET' | 'POST';
      headers: Record<string, string>;
      body?: Buffer;
      maxBytes: number;
    },
  ): Promise<{ status: number; headers: Dispatcher.ResponseData['headers']; body: Buffer }> {
    const agent = this.agentFor(this.proxyFor(peer, url));
    let answer: Dispatcher.ResponseData;
    try {
      answer = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
    } catch (error) {
      throw new FederationError(`${url.origin} is unreachable: ${(error as Error).message}`);
    }
    if (answer.statusCode >= 300 && answer.statusCode < 400) {
      discard(answer);
      throw new FederationError(
        `${url.origin} answered ${answer.statusCode} (a redirect to ${String(answer.headers.location ?? 'nowhere')}); redirects are never followed`,
        answer.statusCode,
      );
    }
    return {
      status: answer.statusCode,
      headers: answer.headers,
      body: await readBounded(answer, request.maxBytes, url),
    };
  }

  /** The proxy URL to go through, or undefined for a direct connection. */
  private proxyFor(peer: PeerTransportChoice, url: URL): string | undefined {
    if (peer.transport === 'socks5') {
      if (peer.proxy_url === null)
        throw new FederationError('the peer uses its own SOCKS5 proxy but has no proxy_url');
      return peer.proxy_url;
    }
    if (peer.transport === 'proxy' || url.hostname.endsWith('.onion')) {
      if (this.options.proxy === undefined) {
        throw new FederationError(
          url.hostname.endsWith('.onion')
            ? `${url.hostname} is a Tor onion address: set AXON_PROXY (e.g. socks5h://127.0.0.1:9050) or give the peer its own SOCKS5 proxy; it is never resolved locally`
            : 'the peer goes through the global proxy, but AXON_PROXY is not set',
        );
      }
      return this.options.proxy;
    }
    return undefined;
  }

  private agentFor(proxy: string | undefined): Agent {
    const key = proxy ?? 'direct';
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new Agent({
        connect:
          proxy === undefined
            ? { timeout: this.options.connectTimeoutMs }
            : socksConnector(parseSocksUrl(proxy), this.options.connectTimeoutMs),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private peerKey(pem: string): KeyObject {
    let key = this.peerKeys.get(pem);
    if (key === undefined) {
      key = createPublicKey(pem);
      // Keys of peers removed since are dropped now and then; the map never outgrows the peers much.
      if (this.peerKeys.size >= 1024) this.peerKeys.clear();
      this.peerKeys.set(pem, key);
    }
    return key;
  }
}

function peerUrl(baseUrl: string, path: string): URL {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new FederationError(`${baseUrl} is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new FederationError(`${baseUrl} is not an http(s) URL`);
  }
  return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base.origin);
}

async function readBounded(
  answer: Dispatcher.ResponseData,
  maxBytes: number,
  url: URL,
): Promise<Buffer> {
  const declared = Number(answer.headers['content-length'] ?? NaN);
  if (declared > maxBytes) {
    discard(answer);
    throw new FederationError(
      `${url.origin} answered ${declared} bytes; at most ${maxBytes} are read`,
      answer.statusCode,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        discard(answer);
        throw new FederationError(
          `${url.origin} answered more than ${maxBytes} bytes; the answer was cut off`,
          answer.statusCode,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof FederationError) throw error;
    throw new FederationError(
      `${url.origin} broke off its answer: ${(error as Error).message}`,
      answer.statusCode,
    );
  }
  return Buffer.concat(chunks);
}

/** Drops an answer's body unread; the connection closes rather than carrying more of it. */
function discard(answer: Dispatcher.ResponseData): void {
  answer.body.on('error', () => undefined);
  answer.body.destroy();
}

function response(status: number, body: Buffer): FederationResponse {
  return {
    status,
    body,
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}
