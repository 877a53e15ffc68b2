// Signed routes (DESIGN.md §7): peers' requests are checked before anything is applied, in this
// order: timestamp, trusted key, Host, body digest and signature, and only then the nonce, so a
// refused request cannot burn one. Every answer to a signed request is signed in turn.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { z } from 'zod';
import { parsePublicKey, PublicKeyFormatError } from '../../../crypto/keys.js';
import type { AppContext } from '../../context.js';
import type { PeerRow } from '../../db/schema.js';
import { AppError } from '../../http/errors.js';
import { ReplayCache } from './replay-cache.js';
import { requestSigningString, sha256Hex, signResponse, verifyText } from './signing.js';

/** How far X-Timestamp may be from this server's clock, in seconds. */
export const CLOCK_WINDOW_S = 300;

const NONCE = /^[A-Za-z0-9_-]{22,128}$/;
const TIMESTAMP = /^\d{1,12}$/;
// A base64 DER RSA key of up to 8192 bits fits.
const PUBKEY_MAX_CHARS = 1600;

export interface SignedRouteOptions<B> {
  method: 'GET' | 'POST';
  url: string;
  /** Querystring, params and response schemas (the body is checked by `body`, after the signature). */
  schema?: Omit<FastifySchema, 'body'>;
  /** Parses the body's JSON once the signature holds; a mismatch is a VALIDATION_ERROR. */
  body?: z.ZodType<B>;
  /** Largest body, in bytes; default AXON_FEDERATION_BODY_LIMIT. */
  bodyLimit?: number;
  /**
   * Called once the peer is known, before a byte of the body is read: may wait (bounding the
   * peer's concurrent requests) or throw; the function it returns is called when the answer ends.
   */
  enter?: (peer: PeerRow) => Promise<() => void>;
}

/** What a handler gets once the request is proven to come from a trusted peer. */
export interface SignedRequest<B> {
  peer: PeerRow;
  /** The bytes the signature covers. */
  rawBody: Buffer;
  body: B;
}

export type SignedHandler<B> = (
  signed: SignedRequest<B>,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<unknown>;

/** Who signed a request: the key's fingerprint (the replay cache's key) and what the route gets. */
interface Signer<S> {
  fingerprint: string;
  key: KeyObject;
  signer: S;
}

interface Checked<S> extends Signer<S> {
  timestamp: string;
  nonce: string;
  signature: string;
}

/**
 * Registers a route only trusted peers may call, in its own scope: its bodies are kept as raw bytes
 * (what the signature covers), and its answers carry X-Signature over `axon-response-v1`.
 */
export function registerSignedRoute<B = undefined>(
  app: FastifyInstance,
  ctx: AppContext,
  options: SignedRouteOptions<B>,
  handler: SignedHandler<B>,
): void {
  registerRoute<PeerRow, B>(
    app,
    ctx,
    options,
    async (pubkey) => {
      const { peer, key } = await trustedPeer(ctx, pubkey);
      return { fingerprint: peer.fingerprint, key, signer: peer };
    },
    ({ signer, rawBody, body }, request, reply) =>
      handler({ peer: signer, rawBody, body }, request, reply),
  );
}

/** The key that signed a request to a route any key may call, and its PEM. */
export interface AnyKey {
  fingerprint: string;
  pem: string;
}

/**
 * Registers a route that any key may call, signed and checked like the others (clock, Host,
 * signature, replay), for what a key not trusted yet must be able to say: a peer's key-change
 * notice signed by its new key. It reads at most `bodyLimit` (small) bytes; the handler decides
 * what the key may do.
 */
export function registerAnyKeyRoute<B>(
  app: FastifyInstance,
  ctx: AppContext,
  options: Omit<SignedRouteOptions<B>, 'enter'> & { bodyLimit: number },
  handler: (
    signed: { signer: AnyKey; rawBody: Buffer; body: B },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => Promise<unknown>,
): void {
  registerRoute<AnyKey, B>(
    app,
    ctx,
    { ...options, enter: undefined },
    async (pubkey) => {
      try {
        const parsed = parsePublicKey(pubkey);
        const key = createPublicKey(parsed.pem);
        return { fingerprint: parsed.fingerprint, key, signer: parsed };
      } catch (error) {
        if (!(error instanceof PublicKeyFormatError)) throw error;
        throw new AppError(401, 'FEDERATION_SIGNATURE', `X-Pubkey: ${error.message}`);
      }
    },
    handler,
  );
}

function registerRoute<S, B>(
  app: FastifyInstance,
  ctx: AppContext,
  options: Omit<SignedRouteOptions<B>, 'enter'> & {
    enter?: ((signer: S) => Promise<() => void>) | undefined;
  },
  resolve: (pubkeyHeader: string) => Promise<Signer<S>>,
  handler: (
    signed: { signer: S; rawBody: Buffer; body: B },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => Promise<unknown>,
): void {
  const replays = new ReplayCache(ctx.database);
  const checked = new WeakMap<FastifyRequest, Checked<S>>();
  const bodyLimit = options.bodyLimit ?? ctx.config.federation.bodyLimit;

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
      done(null, body),
    );

    // Before a byte of the body is read: only a trusted peer with a fresh timestamp gets that far.
    scope.addHook('onRequest', async (request, reply) => {
      const headers = signatureHeaders(request);
      checkClock(headers.timestamp);
      const signer = await resolve(headers.pubkey);
      checkHost(app, ctx, request.headers.host);
      checked.set(request, { ...signer, ...headers });
      if (options.enter !== undefined) {
        const release = await options.enter(signer.signer);
        // 'close' comes once the answer is sent or the connection is gone, whichever is first.
        if (reply.raw.writableFinished || reply.raw.destroyed) release();
        else reply.raw.once('close', release);
      }
    });

    scope.addHook('preHandler', async (request) => {
      const state = checked.get(request)!;
      const text = requestSigningString({
        method: request.method,
        pathAndQuery: request.raw.url ?? request.url,
        host: request.headers.host ?? '',
        timestamp: state.timestamp,
        nonce: state.nonce,
        bodyDigest: sha256Hex(rawBodyOf(request)),
      });
      if (!verifyText(state.key, text, state.signature)) {
        throw new AppError(
          401,
          'FEDERATION_SIGNATURE',
          'X-Signature does not verify: the method, path, query, Host, timestamp, nonce or body differ from what was signed',
        );
      }
      if (!(await replays.remember(state.fingerprint, state.nonce))) {
        throw new AppError(
          409,
          'FEDERATION_REPLAY',
          'this request (key and X-Nonce) was received already',
        );
      }
    });

    scope.addHook('onSend', (request, reply, payload, done) => {
      const nonce = request.headers['x-nonce'];
      if (typeof nonce !== 'string' || !NONCE.test(nonce)) return done(null, payload);
      const bytes = payloadBytes(payload);
      if (bytes === undefined) {
        return done(
          new Error('a signed route must answer with bytes, a string or JSON, not a stream'),
        );
      }
      void reply.header(
        'X-Signature',
        signResponse(ctx.identity.privateKey, nonce, reply.statusCode, bytes),
      );
      done(null, payload);
    });

    scope.route({
      method: options.method,
      url: options.url,
      schema: options.schema,
      bodyLimit,
      config: { signedByPeer: true },
      handler: async (request, reply) => {
        const rawBody = rawBodyOf(request);
        const body =
          options.body === undefined ? (undefined as B) : parseBody(options.body, rawBody);
        return handler({ signer: checked.get(request)!.signer, rawBody, body }, request, reply);
      },
    });
  });
}

function rawBodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function payloadBytes(payload: unknown): Buffer | undefined {
  if (payload === null || payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  return undefined;
}

function signatureHeaders(request: FastifyRequest) {
  const header = (name: string): string => {
    const value = request.headers[name];
    if (typeof value !== 'string' || value === '') {
      throw new AppError(
        401,
        'FEDERATION_SIGNATURE',
        `${name} is missing: federation requests are signed (docs/federation.md)`,
      );
    }
    return value;
  };
  const pubkey = header('x-pubkey');
  const timestamp = header('x-timestamp');
  const nonce = header('x-nonce');
  const signature = header('x-signature');
  if (!TIMESTAMP.test(timestamp)) {
    throw new AppError(401, 'FEDERATION_SIGNATURE', 'X-Timestamp must be Unix seconds, in decimal');
  }
  if (!NONCE.test(nonce)) {
    throw new AppError(
      401,
      'FEDERATION_SIGNATURE',
      'X-Nonce must be at least 16 random bytes in base64url',
    );
  }
  if (pubkey.length > PUBKEY_MAX_CHARS) {
    throw new AppError(401, 'FEDERATION_SIGNATURE', 'X-Pubkey is too long to be a public key');
  }
  return { pubkey, timestamp, nonce, signature };
}

function checkClock(timestamp: string): void {
  const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (skew > CLOCK_WINDOW_S) {
    throw new AppError(
      401,
      'FEDERATION_CLOCK',
      `X-Timestamp is ${Math.round(skew)} s from this server's clock; at most ${CLOCK_WINDOW_S} s are accepted`,
    );
  }
}

async function trustedPeer(
  ctx: AppContext,
  pubkey: string,
): Promise<{ peer: PeerRow; key: KeyObject }> {
  let fingerprint: string;
  try {
    fingerprint = parsePublicKey(pubkey).fingerprint;
  } catch (error) {
    if (!(error instanceof PublicKeyFormatError)) throw error;
    throw new AppError(401, 'FEDERATION_SIGNATURE', `X-Pubkey: ${error.message}`);
  }
  const peer = await ctx.database.db
    .selectFrom('peers')
    .selectAll()
    .where('fingerprint', '=', fingerprint)
    .executeTakeFirst();
  if (peer === undefined) {
    throw new AppError(
      403,
      'FEDERATION_UNTRUSTED',
      'this instance does not know that key; a sysop must add it as a peer',
    );
  }
  if (!peer.trusted) {
    throw new AppError(
      403,
      'FEDERATION_UNTRUSTED',
      'that key is a known peer that this instance does not trust',
    );
  }
  return { peer, key: createPublicKey(peer.pubkey) };
}

/** The Host values a signed request may name: AXON_PUBLIC_HOSTS, or the public URL's and the listen address. */
export function publicHosts(app: FastifyInstance, ctx: AppContext): Set<string> {
  const configured = ctx.config.federation.publicHosts;
  if (configured !== undefined) return new Set(configured);
  const hosts = new Set<string>();
  if (ctx.config.publicUrl !== undefined)
    hosts.add(new URL(ctx.config.publicUrl).host.toLowerCase());
  const address = app.server.address() as AddressInfo | string | null;
  const port = address !== null && typeof address === 'object' ? address.port : ctx.config.port;
  const host = ctx.config.host.includes(':') ? `[${ctx.config.host}]` : ctx.config.host;
  hosts.add(`${host}:${port}`.toLowerCase());
  return hosts;
}

function checkHost(app: FastifyInstance, ctx: AppContext, host: string | undefined): void {
  if (host === undefined || !publicHosts(app, ctx).has(host.toLowerCase())) {
    const known = [...publicHosts(app, ctx)].join(', ');
    throw new AppError(
      421,
      'FEDERATION_HOST',
      `Host ${JSON.stringify(host ?? '')} is not one of this instance's public hosts (${known}): its sysop must add every host name and address peers use to reach it to AXON_PUBLIC_HOSTS`,
    );
  }
}

function parseBody<B>(schema: z.ZodType<B>, raw: Buffer): B {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['body', ...issue.path.map(String)].join('.');
    throw new AppError(400, 'VALIDATION_ERROR', `${field}: ${issue.message}`, {
      fields: parsed.error.issues.map((i) => ({
        field: ['body', ...i.path.map(String)].join('.'),
        message: i.message,
      })),
    });
  }
  return parsed.data;
}
