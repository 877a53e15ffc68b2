// The authorization matrix: every route the app registers × every actor × every resource its rule
// names, against the outcome stated once in route-rules.ts. A route without a rule, a rule for no
// route, an unexpected status and a refused request that changed a row are each a failure.
import type { Check, CheckResult } from '../check.js';
import { ACTORS, setUpFixtures, type Actor } from '../fixtures.js';
import {
  routeRules,
  STATUSES,
  webClientRules,
  type Resource,
  type RouteRule,
} from '../route-rules.js';
import type { Dialect } from '../../src/server/db/database.js';
import { isErrorEnvelope, onEachDatabase, send, snapshot, startCheckServer } from '../server.js';

const RESOURCES: Resource[] = ['none', 'own', 'other', 'restricted'];
const STREAM_HEAD_WAIT_MS = 10_000;

/** The request's error code, when the answer is the error envelope. */
function codeOf(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { code?: string } | null }).error?.code ?? '';
  } catch {
    return '';
  }
}

const check: Check = {
  name: 'authorization-matrix',
  run: (options) => onEachDatabase(options, runOn),
};

async function runOn(dialect: Dialect): Promise<CheckResult> {
  const server = await startCheckServer(dialect, {
    AXON_METRICS_TOKEN: 'a-metrics-token-0123456789',
  });
  const failures: string[] = [];
  let cases = 0;
  try {
    const fx = await setUpFixtures(server);
    const rules: Record<string, RouteRule> = {
      ...webClientRules(server.t.ctx.config.webDir),
      ...routeRules(server.base),
    };
    const registered = new Set(server.routes.map((r) => `${r.method} ${r.url}`));
    for (const key of Object.keys(rules))
      if (!registered.has(key)) failures.push(`rule for ${key}, which the app does not register`);

    type Case = { key: string; method: string; rule: RouteRule };
    const planned: Case[] = [];
    for (const route of server.routes) {
      const key = `${route.method} ${route.url}`;
      // Fastify adds a HEAD route for each GET; it answers by the GET's rule.
      const rule = rules[key] ?? (route.method === 'HEAD' ? rules[`GET ${route.url}`] : undefined);
      if (rule === undefined) failures.push(`${key} is registered but has no rule`);
      else planned.push({ key, method: route.method, rule });
    }
    planned.sort((a, b) => (a.rule.phase ?? 0) - (b.rule.phase ?? 0));
    // A HEAD of an event stream may never be answered: those cases run first, all at once, each
    // given STREAM_HEAD_WAIT_MS to answer, so a hang costs the run that long once.
    const isStreamHead = (c: Case) => c.method === 'HEAD' && c.key.includes('/events/stream/');
    const streamHeads = planned.filter(isStreamHead);

    const batch = streamHeads.flatMap(({ key, method, rule }) =>
      RESOURCES.filter((resource) => rule.on[resource] !== undefined).flatMap((resource) =>
        ACTORS.map(async (actor) => {
          const outcome = await tryCase(
            server.base,
            fx,
            rule,
            actor,
            resource,
            method,
            rule.on[resource]!,
            STREAM_HEAD_WAIT_MS,
          );
          const expected = rule.expect(actor, resource);
          if (!STATUSES[expected](outcome.status, actor))
            failures.push(
              `${actor} ${key} (${resource}): expected ${expected}, got ${outcome.status} ${outcome.code}`.trimEnd(),
            );
          return outcome.status;
        }),
      ),
    );
    cases += batch.length;
    // Reads only, some allowed (a stream touches presence): no dump comparison for the batch.
    await Promise.all(batch);

    let before = await snapshot(server);
    for (const { key, method, rule } of planned.filter((c) => !isStreamHead(c))) {
      for (const resource of RESOURCES) {
        const build = rule.on[resource];
        if (build === undefined) continue;
        for (const actor of ACTORS) {
          cases++;
          if (rule.prepare !== undefined) {
            await rule.prepare(fx, actor, resource);
            before = await snapshot(server);
          }
          const outcome = await tryCase(server.base, fx, rule, actor, resource, method, build);
          const after = await snapshot(server);
          const expected = rule.expect(actor, resource);
          const what = `${actor} ${key} (${resource}): expected ${expected}`;
          if (!STATUSES[expected](outcome.status, actor))
            failures.push(`${what}, got ${outcome.status} ${outcome.code}`.trimEnd());
          // The pages without JavaScript answer errors as HTML pages; everything else, the envelope.
          else if (
            outcome.status >= 400 &&
            !outcome.envelope &&
            method !== 'HEAD' &&
            !key.includes(' /lite/')
          )
            failures.push(`${what}, got ${outcome.status} without the error envelope`);
          if (outcome.status >= 400 && after !== before)
            failures.push(
              `${actor} ${key} (${resource}): refused with ${outcome.status} yet rows changed`,
            );
          before = after;
        }
      }
    }
  } finally {
    await server.close();
  }
  return { cases, failures };
}

async function tryCase(
  base: string,
  fx: Awaited<ReturnType<typeof setUpFixtures>>,
  rule: RouteRule,
  actor: Actor,
  resource: Resource,
  method: string,
  build: NonNullable<RouteRule['on'][Resource]>,
  waitMs?: number,
): Promise<{ status: number; code: string; envelope: boolean }> {
  const token = rule.freshSession
    ? await fx.freshToken(actor)
    : (fx.accounts[actor]?.token ?? undefined);
  const request = await build(fx, actor);
  if (process.env.HARDENING_TRACE !== undefined)
    console.log(`  … ${actor} ${method} ${request.url}`);
  const answer = await send(base, { ...request, method, token, waitMs });
  const code = answer.status === 0 ? `(${answer.text})` : codeOf(answer.text);
  return { status: answer.status, code, envelope: isErrorEnvelope(answer) };
}

export default check;
