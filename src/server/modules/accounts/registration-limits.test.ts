// Sign-up and password-change limits shared by every process of an instance (two apps on one
// database stand for two processes), and the sign-up proof of work: signed, solved, spent once,
// harder as sign-ups come faster. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solveProofOfWork } from '../../../shared/proof-of-work.js';
import {
  bearer,
  injectedProof,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';

describe.each(DIALECTS)('registration and password-change limits on %s', (dialect) => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { AXON_REGISTER_RATE_LIMIT: '3', AXON_LOGIN_RATE_LIMIT: '2' };
    a = await startTestApp(dialect, { ...env, AXON_REGISTER_POW_BITS: '4' });
    b = await startTestApp(dialect, { ...env, AXON_REGISTER_POW_BITS: '4' }, { sharing: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const challengeOf = async (t: TestApp) =>
    (await t.app.inject({ url: '/api/auth/register/challenge/' })).json().data as {
      challenge: string;
      difficulty: number;
    };
  const register = (t: TestApp, username: string, proof: object) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { username, password: 'a long enough password', ...proof },
    });
  const users = async () =>
    Number(
      (
        await a.ctx.database.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('refuses a sign-up without a solved challenge of this server, and a replayed one', async () => {
    expect((await register(a, 'noproof', {})).statusCode).toBe(400);
    const { challenge, difficulty } = await challengeOf(a);
    expect(difficulty).toBe(4);
    // A solution that misses the difficulty (the first candidate that does not meet it).
    let wrong = 0;
    const { createHash } = await import('node:crypto');
    while (
      createHash('sha256').update(`${challenge}:${wrong}`).digest()[0]! >>> (8 - difficulty) ===
      0
    )
      wrong++;
    const unsolved = await register(a, 'unsolved', { challenge, solution: String(wrong) });
    expect(unsolved.statusCode).toBe(400);
    expect(unsolved.json().error.code).toBe('CHALLENGE_INVALID');
    // A challenge with a raised difficulty claimed but the server's signature kept is forged.
    const [expires, , nonce, mac] = challenge.split('.');
    const forged = `${expires}.0.${nonce}.${mac}`;
    const forgedAnswer = await register(a, 'forged', { challenge: forged, solution: '0' });
    expect(forgedAnswer.json().error.code).toBe('CHALLENGE_INVALID');
    expect(await users()).toBe(0);

    const solution = await solveProofOfWork(challenge, difficulty);
    expect((await register(a, 'first', { challenge, solution })).statusCode).toBe(201);
    // Spent: neither this process nor another takes it again.
    for (const t of [a, b]) {
      const replay = await register(t, `replay${t === a ? 'a' : 'b'}`, { challenge, solution });
      expect(replay.statusCode).toBe(409);
      expect(replay.json().error.code).toBe('CHALLENGE_USED');
    }
    expect(await users()).toBe(1);
  });

  it('asks more work as sign-ups come faster, whichever process they reached', async () => {
    // One sign-up so far in this minute (the test above): base 4 + floor(log2(2)) = 5 bits.
    expect((await challengeOf(b)).difficulty).toBe(5);
    expect((await register(b, 'second', await injectedProof(b.app))).statusCode).toBe(201);
    expect((await register(a, 'third', await injectedProof(a.app))).statusCode).toBe(201);
    expect((await challengeOf(a)).difficulty).toBe(6);
  });

  it('holds the instance-wide sign-up limit across processes', async () => {
    // Three sign-ups this minute already (the limit): the fourth is refused by either process.
    const limited = await register(b, 'fourth', await injectedProof(b.app));
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await users()).toBe(3);
  });

  it('counts password changes per account across processes and sessions', async () => {
    const login = async (t: TestApp) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/login/',
          payload: { username: 'first', password: 'a long enough password' },
        })
      ).json().data.token as string;
    const change = async (t: TestApp) =>
      t.app.inject({
        method: 'POST',
        url: '/api/user/password/',
        headers: bearer(await login(t)),
        payload: { current_password: 'wrong password', new_password: 'another long password' },
      });
    expect((await change(a)).statusCode).toBe(403);
    expect((await change(b)).statusCode).toBe(403);
    const third = await change(a);
    expect(third.statusCode).toBe(429);
    expect(third.json().error.code).toBe('RATE_LIMITED');
    expect((await change(b)).statusCode).toBe(429);
  });
});

describe('registering through the test helper', () => {
  it('solves the challenge the way a client does', async () => {
    const t = await startTestApp('sqlite');
    try {
      const account = await registerUser(t.app, 'helper');
      expect(account.token.length).toBeGreaterThan(20);
    } finally {
      await t.close();
    }
  });
});
