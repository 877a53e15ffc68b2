// The peer registry API's shapes: adding, changing and showing trusted instances and their health.
import { z } from 'zod';
import { PEER_STATES } from './health.js';

const MAX_URL = 2048;

/** A key fingerprint as people copy it: 64 hex digits, spaces (the grouped-in-fours form) ignored. */
export const peerFingerprint = z
  .string()
  .max(200)
  .transform((v) => v.replaceAll(/\s/g, '').toLowerCase())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex key fingerprint'));

/** Whether a (normalized) base URL names a Tor hidden service. */
export function isOnionUrl(value: string): boolean {
  try {
    return new URL(value).hostname.endsWith('.onion');
  } catch {
    return false;
  }
}

/**
 * A peer's base URL: http(s), no credentials, query or fragment; normalized to origin + path
 * without a trailing slash, so one instance is one row however the sysop typed it.
 */
export const baseUrl = z
  .string()
  .trim()
  .max(MAX_URL)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
    else if (url.username !== '' || url.password !== '')
      ctx.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    else if (url.search !== '' || url.hash !== '')
      ctx.addIssue({ code: 'custom', message: 'must not carry a query or fragment' });
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

/** A SOCKS5 proxy that resolves names itself (Tor): socks5h://host:port, nothing else. */
export const proxyUrl = z
  .string()
  .trim()
  .max(MAX_URL)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        url.protocol === 'socks5h:' &&
        url.hostname !== '' &&
        url.port !== '' &&
        url.username === '' &&
        url.password === '' &&
        (url.pathname === '' || url.pathname === '/') &&
        url.search === '' &&
        url.hash === ''
      );
    } catch {
      return false;
    }
  }, 'must be socks5h://host:port (the proxy resolves names, as Tor does)');

const nickname = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100)
  .refine((v) => !/[\u0000-\u001f\u007f@]/.test(v), 'must not contain control characters or @');

const limit = (max: number) => z.number().int().min(1).max(max).nullable();

export const TRANSPORTS = ['direct', 'proxy', 'socks5'] as const;

const transportFields = {
  transport: z.enum(TRANSPORTS),
  proxy_url: proxyUrl.nullable(),
};

/** socks5 needs its proxy_url, the others take none; a .onion peer never goes direct. */
function checkTransport(
  value: { transport?: string | undefined; proxy_url?: string | null | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.transport === 'socks5' && (value.proxy_url ?? null) === null)
    ctx.addIssue({ code: 'custom', path: ['proxy_url'], message: 'is required with socks5' });
  if (value.transport !== undefined && value.transport !== 'socks5' && value.proxy_url != null)
    ctx.addIssue({ code: 'custom', path: ['proxy_url'], message: 'is only used with socks5' });
}

export const PeerInput = z
  .strictObject({
    base_url: baseUrl,
    transport: transportFields.transport.default('direct'),
    proxy_url: transportFields.proxy_url.default(null),
    fingerprint: peerFingerprint.optional(),
    nickname: nickname.optional(),
    trusted: z.boolean().default(true),
    trusted_for_moderation: z.boolean().default(false),
  })
  .superRefine(checkTransport)
  .superRefine((value, ctx) => {
    if (value.transport === 'direct' && isOnionUrl(value.base_url))
      ctx.addIssue({
        code: 'custom',
        path: ['transport'],
        message: 'a .onion peer is reached through a proxy: choose proxy or socks5',
      });
  });
export type PeerInput = z.output<typeof PeerInput>;

export const PeerPatch = z
  .strictObject({
    trusted: z.boolean().optional(),
    trusted_for_moderation: z.boolean().optional(),
    transport: transportFields.transport.optional(),
    proxy_url: transportFields.proxy_url.optional(),
    nickname: nickname.optional(),
    max_attachment_bytes: limit(Number.MAX_SAFE_INTEGER).optional(),
    bytes_per_day: limit(Number.MAX_SAFE_INTEGER).optional(),
    objects_per_minute: limit(1_000_000).optional(),
  })
  .refine((v) => Object.values(v).some((field) => field !== undefined), {
    message: 'give at least one field to change',
  });
export type PeerPatch = z.output<typeof PeerPatch>;

export const PeerParams = z.strictObject({ fingerprint: peerFingerprint });

export const AcceptKeyInput = z.strictObject({ fingerprint: peerFingerprint });

export const PeerHealth = z
  .object({
    state: z.enum(PEER_STATES),
    reason: z.string(),
    last_success_at: z.string().nullable(),
    last_error_at: z.string().nullable(),
    last_error: z.string().nullable(),
    consecutive_failures: z.number(),
    queue_length: z.number(),
    oldest_undelivered_at: z.string().nullable(),
    lag_objects: z.number(),
    lag_seconds: z.number(),
    objects_out: z.number(),
    bytes_out: z.number(),
    objects_in: z.number(),
    bytes_in: z.number(),
    refused_in: z.number(),
    chunk_fetches_pending: z.number(),
  })
  .meta({ id: 'PeerHealth' });

export const Peer = z
  .object({
    fingerprint: z.string(),
    pubkey: z.string(),
    base_url: z.string(),
    nickname: z.string(),
    trusted: z.boolean(),
    trusted_for_moderation: z.boolean(),
    transport: z.enum(TRANSPORTS),
    proxy_url: z.string().nullable(),
    pending_fingerprint: z.string().nullable(),
    pending_pubkey: z.string().nullable(),
    max_attachment_bytes: z.number().nullable(),
    bytes_per_day: z.number().nullable(),
    objects_per_minute: z.number().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    health: PeerHealth,
  })
  .meta({ id: 'Peer' });

export const PeerRefresh = z.object({ key_changed: z.boolean(), peer: Peer });

/** What /api/health shows anyone: how many peers are in each state, no peer named. */
export const FederationSummary = z.object({
  peers: z.number(),
  ...Object.fromEntries(PEER_STATES.map((s) => [s, z.number()])),
} as { peers: z.ZodNumber } & Record<(typeof PEER_STATES)[number], z.ZodNumber>);
