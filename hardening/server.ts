// The server a security check talks to: the app built by buildApp on a throwaway database,
// listening on a free loopback port, with the route table it registered (method, url, schema).
import type { RouteOptions } from 'fastify';
import type { CheckOptions, CheckResult } from './check.js';
import type { Dialect } from '../src/server/db/database.js';
import { DIALECTS } from '../src/test-support/databases.js';
import { startTestApp, type TestApp } from '../src/test-support/app.js';
import { dumpDatabase } from '../src/test-support/dump.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
}

export interface CheckServer {
  t: TestApp;
  base: string;
  /** Every method+url the app registered, in registration order. */
  routes: RegisteredRoute[];
  close(): Promise<void>;
}

export async function startCheckServer(
  dialect: Dialect = 'sqlite',
  env: Record<string, string> = {},
): Promise<CheckServer> {
  const routes: RegisteredRoute[] = [];
  const t = await startTestApp(dialect, env, {
    onRoute: (route) => {
      for (const method of [route.method].flat())
        routes.push({ method, url: route.url, schema: route.schema });
    },
  });
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  return { t, base, routes, close: () => t.close() };
}

export interface Answer {
  status: number;
  /** The body as text (for streams: only what arrived with the headers; the stream is closed). */
  text: string;
  contentType: string;
}

export interface Probe {
  method: string;
  /** Path and query. */
  url: string;
  token?: string | undefined;
  /** A JSON value, or raw bytes with their content type. */
  json?: unknown;
  raw?: { body: Uint8Array; contentType: string };
  headers?: Record<string, string>;
  /** Give up after this long, answering status 0 (for requests that may never be answered). */
  waitMs?: number;
}

/** Sends one request over real HTTP; an event stream is closed as soon as its headers arrive. */
export async function send(base: string, probe: Probe): Promise<Answer> {
  const headers: Record<string, string> = { ...probe.headers };
  if (probe.token !== undefined) headers.authorization = `Bearer ${probe.token}`;
  let body: string | Uint8Array | undefined;
  if (probe.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(probe.json);
  } else if (probe.raw !== undefined) {
    headers['content-type'] = probe.raw.contentType;
    body = probe.raw.body;
  }
  const aborter = new AbortController();
  const timer =
    probe.waitMs === undefined ? undefined : setTimeout(() => aborter.abort(), probe.waitMs);
  let response: Response;
  try {
    response = await fetch(base + probe.url, {
      method: probe.method,
      headers,
      body,
      signal: aborter.signal,
      // A redirect is the answer under test (a form's 303), not a request to follow.
      redirect: 'manual',
    });
  } catch (error) {
    if (!aborter.signal.aborted) throw error;
    return { status: 0, text: `no answer within ${probe.waitMs} ms`, contentType: '' };
  } finally {
    clearTimeout(timer);
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('text/event-stream')) {
    aborter.abort();
    return { status: response.status, text: '', contentType };
  }
  return { status: response.status, text: await response.text(), contentType };
}

/** Is this answer the /api envelope with an error code (DESIGN §4)? */
export function isErrorEnvelope(answer: Answer): boolean {
  try {
    const parsed = JSON.parse(answer.text) as {
      success?: unknown;
      error?: { code?: unknown } | null;
    };
    return parsed.success === false && typeof parsed.error?.code === 'string';
  } catch {
    return false;
  }
}

// Refused logins and recoveries are counted on purpose (the rate limit's own rows): not a change.
const BOOKKEEPING = ['attempt_counters'];
/**
 * The database's rows as one text, to compare before and after a refused request. Presence that
 * accepted reads recorded is written first: its periodic flush would otherwise land in the middle
 * of a later, refused request, and a refused request that recorded presence still shows.
 */
export async function snapshot(server: CheckServer): Promise<string> {
  await server.t.ctx.realtime.presence.flush();
  return dumpDatabase(server.t, BOOKKEEPING);
}

/** A multipart/form-data body built by hand, so names and filenames can be anything. */
export function multipart(
  parts: Array<{ name: string; filename?: string; type?: string; data: Uint8Array | string }>,
): { body: Uint8Array; contentType: string } {
  const boundary = `axonhardening${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      `form-data; name="${part.name}"` +
      (part.filename === undefined ? '' : `; filename="${part.filename}"`);
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
          (part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`) +
          '\r\n',
      ),
      Buffer.from(part.data),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/**
 * Runs a check on SQLite, and with --long on every database the server supports, merging the
 * results (each line then names its database).
 */
export async function onEachDatabase(
  options: CheckOptions,
  run: (dialect: Dialect) => Promise<CheckResult>,
): Promise<CheckResult> {
  const dialects: Dialect[] = options.long ? DIALECTS : ['sqlite'];
  const merged: Required<CheckResult> = { cases: 0, failures: [], notes: [] };
  for (const dialect of dialects) {
    const result = await run(dialect);
    const tag = (line: string) => (dialects.length > 1 ? `[${dialect}] ${line}` : line);
    merged.cases += result.cases;
    merged.failures.push(...result.failures.map(tag));
    merged.notes.push(...(result.notes ?? []).map(tag));
  }
  return merged;
}
