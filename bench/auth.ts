// The auth benchmark: login throughput vs raw Argon2id; event-loop latency during key generation.
import { hashRaw, type Algorithm } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { generateKeyPair, randomBytes } from 'node:crypto';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
// The references import the server's own parameters, so a change there cannot skew the ratios.
import { RSA_BITS } from '../src/crypto/keys.js';
import { ARGON2_PARAMS } from '../src/server/modules/accounts/passwords.js';
import {
  fmt,
  httpRequest,
  isSuccessEnvelope,
  markdownTable,
  percentile,
  ratio,
  say,
  startAxon,
  type RunningServer,
} from './support.js';
import { registrationProof } from '../src/test-support/registration.js';

const LOGIN_CONNECTIONS = 16;
const LOGIN_SECONDS = 10;
// Split in two runs, one each side of the login load, so a drift in machine speed (shared host,
// thermal) skews the reference and the figure it divides alike.
const ARGON2_SECONDS_EACH_SIDE = 3;
const ARGON2_MAX_RUNS = 10_000;
const IDLE_HEALTH_MS = 3000;
const HEALTH_LOOPS = 4;
// A pause between probes keeps them a light monitor rather than a load of their own: four loops
// hammering back to back would occupy a core and measure their own queueing.
const HEALTH_PAUSE_MS = 10;
const HEALTH_MAX_PER_LOOP = 20_000;
const HEALTH_TIMEOUT_MS = 10_000;
const REGISTRATIONS = 20;
const REGISTRATION_DEADLINE_MS = 75_000;
const HEALTH_P99_TARGET_MS = 50;
const PASSWORD = 'correct horse battery staple';

// @node-rs/argon2's Algorithm is an ambient const enum, unusable under isolatedModules; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
const generateRsa = promisify(generateKeyPair);

interface HealthSamples {
  /** Every attempt's time, failed ones included: a stalled request is exactly what is looked for. */
  latencies: number[];
  failures: number;
}

/** HEALTH_LOOPS sequential GET /api/health loops, each on its own keep-alive connection. */
async function probeHealth(url: string, done: () => boolean): Promise<HealthSamples> {
  const samples: HealthSamples = { latencies: [], failures: 0 };
  const loop = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < HEALTH_MAX_PER_LOOP && !done(); i++) {
        const started = performance.now();
        try {
          const answer = await httpRequest({
            url: `${url}/api/health`,
            agent,
            timeoutMs: HEALTH_TIMEOUT_MS,
          });
          samples.latencies.push(answer.ms);
          if (answer.status !== 200) samples.failures++;
        } catch {
          samples.latencies.push(performance.now() - started);
          samples.failures++;
        }
        await sleep(HEALTH_PAUSE_MS);
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: HEALTH_LOOPS }, loop));
  return samples;
}

interface Argon2Run {
  latencies: number[];
  seconds: number;
}

/** Argon2id derivations in this process, LOGIN_CONNECTIONS at a time, as the login load runs them. */
async function argon2Run(): Promise<Argon2Run> {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: ARGON2_PARAMS.m,
    timeCost: ARGON2_PARAMS.t,
    parallelism: ARGON2_PARAMS.p,
    // derivePasswordKeys asks for 32 bytes; it is not exported as a constant.
    outputLen: 32,
  };
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + ARGON2_SECONDS_EACH_SIDE * 1000;
  const worker = async () => {
    while (performance.now() < deadline && latencies.length < ARGON2_MAX_RUNS) {
      const t0 = performance.now();
      await hashRaw(PASSWORD, { ...options, salt: randomBytes(16) });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: LOGIN_CONNECTIONS }, worker));
  // Up to the last derivation's end: the ones still running at the deadline did count.
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function argon2Summary(runs: readonly Argon2Run[]) {
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return {
    perSecond: latencies.length / seconds,
    p99: percentile(latencies, 99),
    runs: latencies.length,
  };
}

/** Wall time of REGISTRATIONS RSA key generations started at once here: the crypto with no cap. */
async function rsaReference(): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: REGISTRATIONS }, () => generateRsa('rsa', { modulusLength: RSA_BITS })),
  );
  return performance.now() - started;
}

async function register(
  url: string,
  username: string,
  agent: http.Agent | undefined,
  timeoutMs: number,
): Promise<number> {
  const answer = await httpRequest({
    url: `${url}/api/auth/register/`,
    method: 'POST',
    // The proof of work is the client's cost, solved here with the server's lowest difficulty.
    json: { username, password: PASSWORD, ...(await registrationProof(url)) },
    agent,
    timeoutMs,
  });
  // A 201 without the success envelope is not a registration; -1 keeps it out of the 201 count.
  if (answer.status === 201 && !isSuccessEnvelope(answer.body)) return -1;
  return answer.status;
}

async function loginThroughput(url: string) {
  const username = 'bench_login';
  const status = await register(url, username, undefined, 30_000);
  if (status !== 201) throw new Error(`registering ${username} answered ${status}, not 201`);
  // A few sequential logins warm the JIT and prove the credentials before the load starts.
  for (let i = 0; i < 3; i++) {
    const answer = await httpRequest({
      url: `${url}/api/auth/login/`,
      method: 'POST',
      json: { username, password: PASSWORD },
      timeoutMs: 30_000,
    });
    if (answer.status !== 200 || !isSuccessEnvelope(answer.body)) {
      throw new Error(`warm-up login answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    }
  }
  const result = await autocannon({
    url: `${url}/api/auth/login/`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
    connections: LOGIN_CONNECTIONS,
    duration: LOGIN_SECONDS,
    timeout: 30,
  });
  return {
    perSecond: result['2xx'] / result.duration,
    p99: result.latency.p99,
    responses: result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'],
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function registrationsUnderProbe(url: string) {
  const started = performance.now();
  const deadline = started + REGISTRATION_DEADLINE_MS;
  let finished = false;
  const probe = probeHealth(url, () => finished || performance.now() > deadline);
  const agent = new http.Agent({ keepAlive: false });
  const statuses = await Promise.all(
    Array.from({ length: REGISTRATIONS }, (_, i) =>
      register(url, `bench_reg_${i}`, agent, REGISTRATION_DEADLINE_MS).catch(() => 0),
    ),
  );
  const wallMs = performance.now() - started;
  finished = true;
  agent.destroy();
  const health = await probe;
  return { wallMs, created: statuses.filter((s) => s === 201).length, statuses, health };
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  say(`node ${process.version}, ${cores} cores; starting the server…`);
  let server: RunningServer | undefined;
  try {
    server = await startAxon({
      LOG_LEVEL: 'warn',
      AXON_LOGIN_RATE_LIMIT: '100000',
      AXON_REGISTER_RATE_LIMIT: '100000',
    });
    const { url } = server;
    say(`server up at ${url}`);

    say(`health latency on the idle server (${IDLE_HEALTH_MS / 1000} s)…`);
    const idleEnd = performance.now() + IDLE_HEALTH_MS;
    const idle = await probeHealth(url, () => performance.now() > idleEnd);

    const argon2Say = `argon2id reference: ${LOGIN_CONNECTIONS} at a time, ${ARGON2_SECONDS_EACH_SIDE} s…`;
    say(argon2Say);
    const argon2Before = await argon2Run();
    say(`login: ${LOGIN_CONNECTIONS} connections for ${LOGIN_SECONDS} s…`);
    const login = await loginThroughput(url);
    say(argon2Say);
    const argon2 = argon2Summary([argon2Before, await argon2Run()]);

    say(`${REGISTRATIONS} registrations at once, health probed meanwhile…`);
    const regs = await registrationsUnderProbe(url);

    await server.stop();
    say(`RSA-${RSA_BITS} reference: ${REGISTRATIONS} key pairs at once in this process…`);
    const rsaMs = await rsaReference();

    const idleP50 = percentile(idle.latencies, 50);
    const idleP99 = percentile(idle.latencies, 99);
    const busyP50 = percentile(regs.health.latencies, 50);
    const busyP99 = percentile(regs.health.latencies, 99);
    const verdict = busyP99 < HEALTH_P99_TARGET_MS ? 'PASS' : 'FAIL';
    const loginValid = login.non2xx === 0 && login.errors === 0;
    const regsValid = regs.created === REGISTRATIONS;

    const rows = [
      [
        'login req/s',
        fmt(login.perSecond),
        `${fmt(argon2.perSecond)} argon2id/s`,
        ratio(login.perSecond, argon2.perSecond),
      ],
      [
        'login p99 ms',
        fmt(login.p99, 0),
        `${fmt(argon2.p99, 0)} argon2id p99`,
        ratio(login.p99, argon2.p99),
      ],
      [
        'login non-2xx / errors',
        `${login.non2xx} / ${login.errors} of ${login.responses}`,
        '0 / 0',
        loginValid ? 'OK' : 'INVALID',
      ],
      ['argon2id derivations/s (reference)', '—', fmt(argon2.perSecond), '—'],
      ['health p99 idle ms', fmt(idleP99, 2), '—', '—'],
      [
        `health p99 during ${REGISTRATIONS} registrations ms`,
        `${fmt(busyP99, 2)} ${verdict} (< ${HEALTH_P99_TARGET_MS})`,
        `${fmt(idleP99, 2)} idle`,
        ratio(busyP99, idleP99),
      ],
      [
        'health p50 during registrations ms',
        fmt(busyP50, 2),
        `${fmt(idleP50, 2)} idle`,
        ratio(busyP50, idleP50),
      ],
      [
        'registrations wall time s',
        fmt(regs.wallMs / 1000, 2),
        `${fmt(rsaMs / 1000, 2)} bare RSA keygen`,
        ratio(regs.wallMs, rsaMs),
      ],
      [
        'registrations answered 201',
        `${regs.created}/${REGISTRATIONS}`,
        `${REGISTRATIONS}/${REGISTRATIONS}`,
        regsValid ? 'OK' : 'INVALID',
      ],
    ];

    console.log('');
    console.log(markdownTable(['metric', 'Axon', 'reference', 'ratio'], rows));
    console.log('');
    console.log(
      `health samples: idle ${idle.latencies.length} (${idle.failures} failed), ` +
        `during registrations ${regs.health.latencies.length} (${regs.health.failures} failed); ` +
        `${HEALTH_LOOPS} loops, ${HEALTH_PAUSE_MS} ms pause between probes.`,
    );
    console.log(
      `argon2id reference: ${argon2.runs} runs in two halves around the login load, ` +
        `m=${ARGON2_PARAMS.m} t=${ARGON2_PARAMS.t} p=${ARGON2_PARAMS.p}, 32-byte output.`,
    );
    console.log(`health p99 during registrations < ${HEALTH_P99_TARGET_MS} ms: ${verdict}`);
    if (!regsValid) console.log(`registration statuses: ${regs.statuses.join(', ')}`);
    // A latency FAIL is a finding; wrong answers mean the figures above measure something else.
    if (!loginValid || !regsValid) {
      console.log('INVALID RUN: some requests did not answer as expected.');
      process.exitCode = 1;
    }
  } catch (error) {
    if (server !== undefined) console.error(`server output:\n${server.output()}`);
    throw error;
  } finally {
    await server?.stop();
  }
}

await main();
