// Login timing against a real server: a wrong password for an account that exists and any password
// for a name that does not must take the same time, or response times reveal which names exist.
// Attempts are interleaved (seeded order within each pair) so drift in machine load hits both alike.
import { percentile, seededRandom } from '../../bench/support.js';
import type { Check, CheckResult } from '../check.js';
import {
  ACCOUNTS,
  preparedDataDir,
  removeDataDir,
  startAxon,
  type AxonServer,
} from '../support/spawned-server.js';

/**
 * The medians may differ by at most this share of the slower one. A server that skips the password
 * hash for unknown names answers them in about a millisecond against tens of milliseconds for an
 * Argon2 run (a difference of over 90 %), so 30 % still catches that, and a per-account delay that
 * only existing accounts get, with room for the noise of a shared machine (medians of 40 pairs
 * differed by up to 13 % between runs here under a load average of 20).
 */
const TOLERANCE = 0.3;
const WARM_UP = 4;

async function attemptMs(server: AxonServer, username: string, password: string) {
  const started = process.hrtime.bigint();
  const response = await fetch(`${server.url}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as { error?: { code?: string } };
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: response.status, code: body.error?.code };
}

function distribution(label: string, samples: number[]): string {
  const p = (q: number) => percentile(samples, q).toFixed(1);
  return `${label}: n=${samples.length} p10 ${p(10)} ms, p50 ${p(50)} ms, p90 ${p(90)} ms, p99 ${p(99)} ms, max ${Math.max(...samples).toFixed(1)} ms`;
}

async function run(long: boolean, seed: number): Promise<CheckResult> {
  const attempts = long ? 200 : 40;
  const random = seededRandom(seed);
  const dataDir = await preparedDataDir('timing');
  const server = await startAxon(dataDir);
  try {
    const failures: string[] = [];
    const existing: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < WARM_UP + attempts; i++) {
      const pair = [
        { into: existing, username: ACCOUNTS.alice, password: `wrong password ${i}` },
        { into: unknown, username: `nobody${seed}x${i}`, password: `wrong password ${i}` },
      ];
      if (random() < 0.5) pair.reverse();
      for (const attempt of pair) {
        const answer = await attemptMs(server, attempt.username, attempt.password);
        if (answer.status !== 401 || answer.code !== 'INVALID_CREDENTIALS')
          failures.push(
            `login ${attempt.username} with a wrong password answered ${answer.status} ${answer.code} ` +
              '(expected 401 INVALID_CREDENTIALS, the same for both)',
          );
        if (i >= WARM_UP) attempt.into.push(answer.ms);
      }
    }
    const existingMedian = percentile(existing, 50);
    const unknownMedian = percentile(unknown, 50);
    const difference = Math.abs(existingMedian - unknownMedian);
    const allowed = TOLERANCE * Math.max(existingMedian, unknownMedian);
    if (difference > allowed)
      failures.push(
        `login timing: median ${existingMedian.toFixed(1)} ms for an existing account with a wrong ` +
          `password vs ${unknownMedian.toFixed(1)} ms for an unknown account; they differ by ` +
          `${difference.toFixed(1)} ms, over ${TOLERANCE * 100} % of the slower (${allowed.toFixed(1)} ms)`,
      );
    return {
      cases: 2 * attempts,
      failures,
      notes: [
        distribution('timing, existing account + wrong password', existing),
        distribution('timing, unknown account', unknown),
        `timing: medians differ by ${difference.toFixed(1)} ms (allowed ${allowed.toFixed(1)} ms, ${TOLERANCE * 100} % of the slower)`,
      ],
    };
  } finally {
    await server.stop();
    removeDataDir(dataDir);
  }
}

const check: Check = {
  name: 'timing',
  run: ({ long, seed }) => run(long, seed),
};

export default check;
