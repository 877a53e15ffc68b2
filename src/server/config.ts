// Configuration from the environment, validated once at start (DESIGN.md §3).
// A bad value stops the process with a message naming the variable.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { WorkLimits } from './work-budget.js';

/** The built web client: dist/web at the package root (this file is src/server or dist/server). */
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .refine(
      (v) => v.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(v),
      'must be sqlite:PATH or postgres://…',
    )
    .optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z
    .string()
    .regex(/^\d+$/, 'must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535))
    .default(8000),
  AXON_DATA_DIR: z.string().min(1).default('./data'),
  AXON_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AXON_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional()
    .transform((v) => v?.replace(/\/+$/, '')),
  AXON_PROXY: z
    .url({ protocol: /^socks5h?$/, error: 'must be a socks5:// or socks5h:// URL' })
    .optional(),
  AXON_PUBLIC_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ''),
    )
    .pipe(
      z
        .array(
          z.string().regex(/^[a-z0-9.[\]:-]+$/, 'must be host or host:port names, comma-separated'),
        )
        .min(1, 'must name at least one host'),
    )
    .optional(),
  AXON_FEDERATION_BODY_LIMIT: positiveInt(1024 * 1024 * 1024).default(8 * 1024 * 1024),
  AXON_FEDERATION_RESPONSE_LIMIT: positiveInt(Number.MAX_SAFE_INTEGER).default(16 * 1024 * 1024),
  AXON_FEDERATION_CONNECT_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  AXON_FEDERATION_TIMEOUT_MS: positiveInt(3_600_000).default(60_000),
  AXON_TOR_DIR: z.string().min(1).optional(),
  AXON_TOR_SOCKS: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9050')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  AXON_LOGIN_RATE_LIMIT: positiveInt(100_000).default(10),
  AXON_REGISTER_RATE_LIMIT: positiveInt(100_000).default(30),
  AXON_REGISTER_POW_BITS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of bits, 0 to 32')
    .transform(Number)
    .pipe(z.number().int().min(0).max(32))
    .default(16),
  AXON_LOGIN_DELAYED_MAX: positiveInt(100_000).default(256),
  AXON_WORK_CONCURRENCY: positiveInt(1024).default(2),
  AXON_WORK_QUEUE: positiveInt(100_000).default(64),
  AXON_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  AXON_UPLOAD_LIMIT: positiveInt(Number.MAX_SAFE_INTEGER).default(100 * 1024 * 1024),
  AXON_UPLOAD_QUOTA_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(1024 * 1024 * 1024),
  AXON_UPLOAD_QUOTA_FILES: positiveInt(Number.MAX_SAFE_INTEGER).default(1000),
  AXON_WEB_DIR: z.string().min(1).default(DEFAULT_WEB_DIR),
  AXON_HEADERS_TIMEOUT_MS: positiveInt(3_600_000).default(10_000),
  AXON_BODY_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  AXON_UPLOAD_TIMEOUT_MS: positiveInt(86_400_000).default(3_600_000),
  AXON_IDLE_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  AXON_PAGE_CACHE_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(32 * 1024 * 1024),
  AXON_STREAM_MAX_SECONDS: positiveInt(7 * 24 * 3600).default(3600),
  AXON_STREAMS_PER_SESSION: positiveInt(100_000).default(8),
  AXON_STREAMS_TOTAL: positiveInt(10_000_000).default(2_048),
  AXON_PEER_MAX_ATTACHMENT_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(100 * 1024 * 1024),
  AXON_PEER_BYTES_PER_DAY: positiveInt(Number.MAX_SAFE_INTEGER).default(4 * 1024 * 1024 * 1024),
  AXON_CHUNK_FETCHES: positiveInt(64).default(4),
  AXON_REMOTE_CACHE_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(10 * 1024 ** 3),
  AXON_REMOTE_CACHE_PEER_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).optional(),
  AXON_FEDERATION_IN_FLIGHT: positiveInt(64).default(4),
  AXON_PEER_OBJECTS_PER_MINUTE: positiveInt(100_000_000).default(60_000),
  AXON_FEDERATION_BACKFILL: positiveInt(100_000).default(500),
});

export type DatabaseConfig =
  { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export interface UploadQuota {
  bytes: number;
  files: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  /** Secret that encrypts keys at rest; undefined means "use or create data/secret.key". */
  secret: string | undefined;
  publicUrl: string | undefined;
  proxy: string | undefined;
  federation: FederationLimits;
  tor: TorConfig;
  logLevel: (typeof LOG_LEVELS)[number];
  rateLimits: {
    loginPerMinute: number;
    registerPerMinute: number;
    loginDelayedMax: number;
    /** Zero bits a sign-up's proof of work needs at the quietest; the rate adds more. */
    registerPowBits: number;
  };
  /** The budget for Argon2id runs and RSA key generation (src/server/work-budget.ts). */
  work: WorkLimits;
  metricsToken: string | undefined;
  /** Largest upload accepted, in bytes. */
  uploadLimit: number;
  /** What one account's uploads may hold in all: bytes and files. */
  uploadQuota: UploadQuota;
  /** Where BitSync blobs live. */
  chunkStoreDir: string;
  /** The built web client (index.html and assets/). */
  webDir: string;
  timeouts: Timeouts;
  /** Bytes the board-page micro-cache may hold. */
  pageCacheBytes: number;
  realtime: RealtimeLimits;
  remoteContent: RemoteContentLimits;
}

/** Content fetched from peers (docs/federation.md, Attachments). */
export interface RemoteContentLimits {
  /** Largest attachment taken from a peer whose row sets no max_attachment_bytes. */
  maxAttachmentBytes: number;
  /** Attachment bytes taken from one peer in 24 hours, when its row sets no bytes_per_day. */
  bytesPerDay: number;
  /** Chunk fetches in flight at once, per content being fetched. */
  parallelFetches: number;
  /** Bytes of fetched content kept at most; the least recently read is evicted first. */
  cacheBytes: number;
  /** Bytes of content fetched from one peer (its origin) kept at most. */
  cachePeerBytes: number;
}

/** How long a client may take to send what it sends, in milliseconds. */
export interface Timeouts {
  /** From connecting (or the previous answer) to the end of the request headers. */
  headersMs: number;
  /** From the headers to the end of the body, on every route but uploads. */
  bodyMs: number;
  /** From the headers to the answer, on upload routes. */
  uploadMs: number;
  /** How long a kept-alive connection may wait idle for its next request. */
  idleMs: number;
}

/** Signed server-to-server transport (docs/federation.md ## Transport). */
export interface FederationLimits {
  /** Host header values signed requests may carry; undefined: AXON_PUBLIC_URL's host and the listen address. */
  publicHosts: string[] | undefined;
  /** Largest body a signed request may carry, in bytes. */
  bodyLimit: number;
  /** Largest answer the outbound client reads from a peer, in bytes (per request unless it asks for less). */
  responseLimit: number;
  /** How long the outbound client may take to connect (through the proxy, if any). */
  connectTimeoutMs: number;
  /** How long it waits for a peer's headers, and between two pieces of its body. */
  timeoutMs: number;
  /** Batches of log entries in flight to one peer at once. */
  inFlight: number;
  /** Log entries of a board a peer receives when the board is newly shared with it. */
  backfill: number;
  /** Objects one peer may send in a minute, when its row sets no objects_per_minute. */
  objectsPerMinute: number;
}

/** This instance's Tor hidden service (`axon tor init`), when it has one. */
export interface TorConfig {
  /** The HiddenServiceDir; its `hostname` file holds the onion address. */
  dir: string | undefined;
  /** Tor's SOCKS port, host:port. */
  socks: string | undefined;
}

/** Bounds on open SSE streams and parked long polls (docs/realtime.md). */
export interface RealtimeLimits {
  /** A stream ends after this long (the client resumes by cursor); long polls wait at most 30 s. */
  maxStreamMs: number;
  /** Open streams and long polls one session (or, for visitors, nobody in particular) may hold. */
  perSession: number;
  /** Open streams and long polls in this process. */
  total: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most shells' `VAR= command`.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.AXON_DATA_DIR);
  const database: DatabaseConfig =
    e.DATABASE_URL === undefined
      ? { dialect: 'sqlite', path: path.join(dataDir, 'axon.db') }
      : e.DATABASE_URL.startsWith('sqlite:')
        ? { dialect: 'sqlite', path: sqlitePath(e.DATABASE_URL) }
        : { dialect: 'postgres', url: e.DATABASE_URL };
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir,
    database,
    secret: e.AXON_SECRET,
    publicUrl: e.AXON_PUBLIC_URL,
    proxy: e.AXON_PROXY,
    federation: {
      publicHosts: e.AXON_PUBLIC_HOSTS,
      bodyLimit: e.AXON_FEDERATION_BODY_LIMIT,
      responseLimit: e.AXON_FEDERATION_RESPONSE_LIMIT,
      connectTimeoutMs: e.AXON_FEDERATION_CONNECT_TIMEOUT_MS,
      timeoutMs: e.AXON_FEDERATION_TIMEOUT_MS,
      inFlight: e.AXON_FEDERATION_IN_FLIGHT,
      backfill: e.AXON_FEDERATION_BACKFILL,
      objectsPerMinute: e.AXON_PEER_OBJECTS_PER_MINUTE,
    },
    tor: {
      dir: e.AXON_TOR_DIR === undefined ? undefined : path.resolve(e.AXON_TOR_DIR),
      socks: e.AXON_TOR_SOCKS,
    },
    logLevel: e.LOG_LEVEL,
    rateLimits: {
      loginPerMinute: e.AXON_LOGIN_RATE_LIMIT,
      registerPerMinute: e.AXON_REGISTER_RATE_LIMIT,
      loginDelayedMax: e.AXON_LOGIN_DELAYED_MAX,
      registerPowBits: e.AXON_REGISTER_POW_BITS,
    },
    work: { running: e.AXON_WORK_CONCURRENCY, waiting: e.AXON_WORK_QUEUE },
    metricsToken: e.AXON_METRICS_TOKEN,
    uploadLimit: e.AXON_UPLOAD_LIMIT,
    uploadQuota: { bytes: e.AXON_UPLOAD_QUOTA_BYTES, files: e.AXON_UPLOAD_QUOTA_FILES },
    chunkStoreDir: path.join(dataDir, 'chunks'),
    webDir: path.resolve(e.AXON_WEB_DIR),
    timeouts: {
      headersMs: e.AXON_HEADERS_TIMEOUT_MS,
      bodyMs: e.AXON_BODY_TIMEOUT_MS,
      uploadMs: e.AXON_UPLOAD_TIMEOUT_MS,
      idleMs: e.AXON_IDLE_TIMEOUT_MS,
    },
    pageCacheBytes: e.AXON_PAGE_CACHE_BYTES,
    realtime: {
      maxStreamMs: e.AXON_STREAM_MAX_SECONDS * 1000,
      perSession: e.AXON_STREAMS_PER_SESSION,
      total: e.AXON_STREAMS_TOTAL,
    },
    remoteContent: {
      maxAttachmentBytes: e.AXON_PEER_MAX_ATTACHMENT_BYTES,
      bytesPerDay: e.AXON_PEER_BYTES_PER_DAY,
      parallelFetches: e.AXON_CHUNK_FETCHES,
      cacheBytes: e.AXON_REMOTE_CACHE_BYTES,
      cachePeerBytes: e.AXON_REMOTE_CACHE_PEER_BYTES ?? e.AXON_REMOTE_CACHE_BYTES,
    },
  };
}

function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (rest === '') throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path');
  return rest === ':memory:' ? rest : path.resolve(rest);
}
