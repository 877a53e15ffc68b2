// Fuzzing from the schemas: for every route the app registers, requests whose params, query
// string and body are drawn from the route's own zod schemas (or random multipart parts and image
// bytes where it takes files), sent as a signed-in user and as a visitor. Never a 5xx, never a
// dropped connection, always the envelope with a code on /api, and a refused request changes no
// row. HEAD routes are their GET's handler and are not tried again.
import fc from 'fast-check';
import type { z } from 'zod';
import type { Check, CheckOptions, CheckResult } from '../check.js';
import type { Dialect } from '../../src/server/db/database.js';
import { XSS_PAYLOADS } from '../../src/test-support/xss-corpus.js';
import {
  isErrorEnvelope,
  multipart,
  onEachDatabase,
  send,
  snapshot,
  startCheckServer,
  type CheckServer,
  type Probe,
  type RegisteredRoute,
} from '../server.js';
import { arbitraryFor, type Hints } from '../zod-arbitrary.js';
import { registrationProof } from '../../src/test-support/registration.js';

/** Cases per route and per identity (signed-in, visitor); --long multiplies them. */
const RUNS = 8;
const LONG_FACTOR = 10;
/** Routes whose success ends the fuzzing user's session run last. */
const LAST = new Set(['POST /api/auth/logout/', 'POST /api/user/password/']);

interface Identity {
  name: 'user' | 'visitor';
  token: string | undefined;
}

const check: Check = {
  name: 'fuzz',
  run: (options) => onEachDatabase(options, (dialect) => runOn(dialect, options)),
};

async function runOn(dialect: Dialect, options: CheckOptions): Promise<CheckResult> {
  const server = await startCheckServer(dialect);
  const failures = new Map<string, { count: number; example: string }>();
  let cases = 0;
  const statuses = new Map<number, number>();
  try {
    const { identities, hints } = await setUp(server);
    const runs = options.long ? RUNS * LONG_FACTOR : RUNS;
    const routes = server.routes
      .filter((r) => r.method !== 'HEAD')
      .sort((a, b) => Number(LAST.has(key(a))) - Number(LAST.has(key(b))));
    let before = await snapshot(server);
    for (const [index, route] of routes.entries()) {
      const probes = fc.sample(probeFor(route, hints), {
        seed: options.seed + index,
        numRuns: runs,
      });
      for (const identity of identities) {
        for (const probe of probes) {
          cases++;
          const found = await tryProbe(server, route, { ...probe, token: identity.token });
          statuses.set(found.status, (statuses.get(found.status) ?? 0) + 1);
          const after = await snapshot(server);
          if (found.status >= 400 && after !== before)
            found.problems.push(`refused with ${found.status} yet rows changed`);
          before = after;
          for (const problem of found.problems) {
            const where = `${identity.name} ${key(route)}: ${problem}`;
            const seen = failures.get(where);
            if (seen === undefined) failures.set(where, { count: 1, example: describe(probe) });
            else seen.count++;
          }
        }
      }
    }
  } finally {
    await server.close();
  }
  return {
    cases,
    failures: [...failures].map(
      ([where, { count, example }]) => `${where} (${count}×; e.g. ${example})`,
    ),
    notes: [
      `answers by status: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${status}×${n}`)
        .join(', ')}`,
    ],
  };
}

const key = (route: RegisteredRoute) => `${route.method} ${route.url}`;

function describe(probe: Omit<Probe, 'token'>): string {
  const body =
    probe.json !== undefined
      ? ` json=${JSON.stringify(probe.json)}`
      : probe.raw !== undefined
        ? ` ${probe.raw.contentType.split(';')[0]} ${probe.raw.body.length} bytes`
        : '';
  return `${probe.method} ${probe.url}${body}`.slice(0, 300);
}

async function tryProbe(
  server: CheckServer,
  route: RegisteredRoute,
  probe: Probe,
): Promise<{ status: number; problems: string[] }> {
  let answer;
  try {
    answer = await send(server.base, probe);
  } catch (error) {
    return { status: 0, problems: [`no answer: ${(error as Error).cause ?? error}`] };
  }
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}`);
  if (route.url.startsWith('/api/') && answer.status >= 400 && !isErrorEnvelope(answer))
    problems.push(`answered ${answer.status} without the error envelope`);
  return { status: answer.status, problems };
}

type Schema = {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  consumes?: string[];
};

/** Requests for one route, drawn from its schemas. */
function probeFor(route: RegisteredRoute, hints: Hints): fc.Arbitrary<Omit<Probe, 'token'>> {
  const schema = (route.schema ?? {}) as Schema;
  const names = [...route.url.matchAll(/:(\w+)|\*/g)].map((m) => m[1] ?? '*');
  const segment = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(...XSS_PAYLOADS.slice(0, 40)),
  );
  const params =
    schema.params !== undefined
      ? arbitraryFor(schema.params, hints)
      : fc.record(Object.fromEntries(names.map((n) => [n, segment])));
  const query =
    schema.querystring !== undefined ? arbitraryFor(schema.querystring, hints) : fc.constant({});
  const body = bodyFor(route, schema, hints);
  return fc.tuple(params, query, body).map(([p, q, b]) => ({
    method: route.method,
    url: urlOf(route.url, p, q),
    ...b,
  }));
}

/** How a value reaches a path or a query string: strings as they are, anything else as JSON. */
const asText = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');

/** The path with each parameter filled in (encoded), and the query string. */
function urlOf(pattern: string, params: unknown, query: unknown): string {
  const values = (typeof params === 'object' && params !== null ? params : {}) as Record<
    string,
    unknown
  >;
  const path = pattern.replace(/:(\w+)|\*/g, (_, name: string | undefined) =>
    encodeURIComponent(asText(values[name ?? '*'] ?? '')),
  );
  const search = new URLSearchParams();
  if (typeof query === 'object' && query !== null)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) search.append(k, asText(v));
  const qs = search.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

function bodyFor(
  route: RegisteredRoute,
  schema: Schema,
  hints: Hints,
): fc.Arbitrary<Pick<Probe, 'json' | 'raw'>> {
  const bytes = fc.uint8Array({ maxLength: 2048 });
  if (route.url === '/api/content/upload/') {
    const part = fc.record({
      name: fc.oneof(fc.constant('file'), fc.string({ maxLength: 10 })),
      filename: fc.option(
        fc.oneof(fc.constantFrom(...XSS_PAYLOADS), fc.string({ maxLength: 40 })),
        {
          nil: undefined,
        },
      ),
      type: fc.option(fc.constantFrom('image/png', 'text/html', 'application/octet-stream', 'x'), {
        nil: undefined,
      }),
      data: bytes,
    });
    return fc.array(part, { maxLength: 3 }).map((parts) => ({ raw: multipart(parts) }));
  }
  if (schema.consumes !== undefined)
    return fc.record({
      raw: fc.record({
        body: bytes,
        contentType: fc.constantFrom(...schema.consumes, 'application/json', 'text/plain'),
      }),
    });
  if (schema.body === undefined) return fc.constant({});
  return fc.oneof(
    { weight: 5, arbitrary: arbitraryFor(schema.body, hints).map((json) => ({ json })) },
    // Bodies that are not JSON at all, or JSON under another name.
    {
      weight: 1,
      arbitrary: fc.record({
        raw: fc.record({
          body: fc.oneof(bytes, fc.constant(Buffer.from('{"a":'))),
          contentType: fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
          ),
        }),
      }),
    },
  );
}

/** A user and a visitor, and real ids to offer so some cases reach the services. */
async function setUp(server: CheckServer): Promise<{ identities: Identity[]; hints: Hints }> {
  const post = async (url: string, json: unknown, token?: string) => {
    const answer = await send(server.base, { method: 'POST', url, json, token });
    if (answer.status >= 300)
      throw new Error(`fuzz set-up ${url}: ${answer.status} ${answer.text}`);
    return (JSON.parse(answer.text) as { data: Record<string, unknown> }).data;
  };
  const account = await post('/api/auth/register/', {
    username: 'fuzzer',
    password: 'correct horse battery',
    ...(await registrationProof(server.base)),
  });
  const user = account.user as { id: string; fingerprint: string };
  const token = account.token as string;
  await server.t.ctx.database.db
    .updateTable('users')
    .set({ is_sysop: true })
    .where('id', '=', user.id)
    .execute();
  const board = (await post('/api/boards/', { name: 'fuzzing', is_realtime: true }, token))
    .id as string;
  await server.t.ctx.database.db
    .updateTable('users')
    .set({ is_sysop: false })
    .where('id', '=', user.id)
    .execute();
  const message = (
    await post('/api/messages/', { board_id: board, subject: 's', body: 'b' }, token)
  ).id as string;
  const ids = [board, message, user.id];
  return {
    identities: [
      { name: 'user', token },
      { name: 'visitor', token: undefined },
    ],
    hints: {
      known: {
        id: ids,
        board_id: [board],
        parent_id: [message],
        room_id: [board],
        username: ['fuzzer'],
        to: ['fuzzer'],
        fingerprint: [user.fingerprint],
        pubkey: [user.fingerprint],
      },
      // A long poll would park for `wait` seconds: fuzz it with non-numbers and 0 only.
      pinned: { wait: fc.oneof(fc.constant('0'), fc.constantFrom('-1', 'x', '1e9', '', '[]')) },
    },
  };
}

export default check;
