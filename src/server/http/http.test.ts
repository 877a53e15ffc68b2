// The HTTP conventions every route shares: the envelope on every answer (404, 405, 413, 415, 500
// and validation errors included), request ids, security headers, rate limits and login slowdowns,
// OpenAPI, health and metrics.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  injectedProof,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../test-support/app.js';
import { DIALECTS } from '../../test-support/databases.js';
import { expectFieldRefused } from '../../test-support/expect.js';

function expectErrorEnvelope(body: unknown, code: string): void {
  expect(body).toMatchObject({ success: false, data: null, error: { code } });
  const b = body as { error: { message: string }; timestamp: string };
  expect(b.error.message.length).toBeGreaterThan(0);
  expect(new Date(b.timestamp).toISOString()).toBe(b.timestamp);
}

describe('HTTP conventions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { AXON_LOGIN_RATE_LIMIT: '3' });
    t.app.get('/api/test/crash', async () => {
      throw new Error('database password is hunter2');
    });
  });
  afterAll(() => t.close());

  it('answers an unknown route with a 404 envelope', async () => {
    const res = await t.app.inject({ url: '/api/nothing/here/' });
    expect(res.statusCode).toBe(404);
    expectErrorEnvelope(res.json(), 'NOT_FOUND');
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/auth/login/' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expectErrorEnvelope(res.json(), 'METHOD_NOT_ALLOWED');
    const param = await t.app.inject({ method: 'POST', url: '/api/users/abc/avatar/' });
    expect(param.statusCode).toBe(405);
    expect(param.headers.allow).toBe('GET');
  });

  it('answers a path segment over the router limit with a 400 envelope', async () => {
    const res = await t.app.inject({ url: `/api/users/${'a'.repeat(300)}/avatar/` });
    expect(res.statusCode).toBe(400);
    expectErrorEnvelope(res.json(), 'BAD_REQUEST');
  });

  it('refuses a large body from a client without a session before reading it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ subject: 'x', body: 'y'.repeat(64 * 1024) }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers.connection).toBe('close');
    expectErrorEnvelope(res.json(), 'UNAUTHORIZED');
  });

  it('answers HEAD of an event stream with its headers and ends it', async () => {
    const reader = await registerUser(t.app, 'headreader');
    const res = await t.app.inject({
      method: 'HEAD',
      url: '/api/chat/events/stream/',
      headers: bearer(reader.token),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.body).toBe('');
  });

  it('accepts routes with or without the trailing slash', async () => {
    expect((await t.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/health/' })).statusCode).toBe(200);
    const noSlash = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'x', password: 'y' },
    });
    expect(noSlash.statusCode).toBe(401);
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "x",',
    });
    expect(res.statusCode).toBe(400);
    expectErrorEnvelope(res.json(), 'INVALID_JSON');
  });

  it('answers a missing body with 400 naming the body', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/register/' });
    expect(res.statusCode).toBe(400);
    expectErrorEnvelope(res.json(), 'VALIDATION_ERROR');
    expect(res.json().error.details.fields[0].field).toBe('body');
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'image/png',
    'multipart/form-data; boundary=x',
  ])('answers Content-Type %s on a JSON route with 415', async (type) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'content-type': type },
      payload: 'username=x&password=yyyyyyyy',
    });
    expect(res.statusCode).toBe(415);
    expectErrorEnvelope(res.json(), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over 1 MiB with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'big', password: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expectErrorEnvelope(res.json(), 'PAYLOAD_TOO_LARGE');
  });

  it('answers a wrong-typed field with 400 naming it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: ['alice'], password: 'x' },
    });
    expectFieldRefused(res, 'body.username');
  });

  it('turns an unexpected failure into a 500 envelope with the request id, and logs it', async () => {
    const res = await t.app.inject({ url: '/api/test/crash' });
    expect(res.statusCode).toBe(500);
    expectErrorEnvelope(res.json(), 'INTERNAL_ERROR');
    const requestId = res.headers['x-request-id'];
    expect(res.json().error.details.request_id).toBe(requestId);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('at ');
    expect(t.logs.some((l) => l.includes(String(requestId)) && l.includes('"level":50'))).toBe(
      true,
    );
  });

  it('gives every response a unique request id and security headers', async () => {
    const a = await t.app.inject({ url: '/api/health' });
    const b = await t.app.inject({ url: '/api/health' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    const csp = String(a.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(a.headers['x-content-type-options']).toBe('nosniff');
    expect(a.headers['referrer-policy']).toBe('no-referrer');
  });

  it('ignores a request id sent by the client', async () => {
    const res = await t.app.inject({ url: '/api/health', headers: { 'request-id': 'mine' } });
    expect(res.headers['x-request-id']).not.toBe('mine');
  });

  it('slows down login attempts per account name past the free ones, and never refuses the owner', async () => {
    await registerUser(t.app, 'victim', 'the owner password');
    const attempt = (username: string, password = 'guess guess') =>
      t.app.inject({ method: 'POST', url: '/api/auth/login/', payload: { username, password } });
    // Three free attempts, then three more that are slowed down but still answered as usual.
    for (let i = 0; i < 6; i++) {
      const wrong = await attempt(i % 2 === 0 ? 'victim' : 'Victim');
      expect(wrong.statusCode).toBe(401);
      expectErrorEnvelope(wrong.json(), 'INVALID_CREDENTIALS');
    }
    // The owner still gets in with the right password after all those guesses.
    const owner = await attempt('victim', 'the owner password');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().data.user.username).toBe('victim');
    // Another account name is not affected.
    expect((await attempt('someone_else')).statusCode).toBe(401);
  });

  it('serves the OpenAPI document generated from the schemas', async () => {
    const res = await t.app.inject({ url: '/api/docs' });
    expect(res.statusCode).toBe(200);
    const doc = res.json().data;
    expect(doc.openapi).toMatch(/^3\./);
    const register = doc.paths['/api/auth/register/'].post;
    const schema = register.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['username', 'password']));
    expect(schema.properties.username.maxLength).toBe(32);
    expect(schema.additionalProperties).toBe(false);
    for (const path of [
      '/api/auth/login/',
      '/api/user/profile/',
      '/api/user/password/',
      '/api/auth/recover/',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const bare = await t.app.inject({ url: '/openapi.json' });
    expect(bare.json().paths['/api/auth/logout/']).toBeDefined();
  });

  it('exposes Prometheus metrics, counting requests by route', async () => {
    await t.app.inject({ url: '/api/health' });
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /axon_http_requests_total\{method="GET",route="\/api\/health",status="200"\} \d+/,
    );
    expect(res.body).toContain('axon_process_resident_memory_bytes');
  });

  it('tells caches not to store API answers (which may hold private data)', async () => {
    const res = await t.app.inject({ url: '/api/health' });
    expect(res.headers['cache-control']).toBe('no-store');
    const missing = await t.app.inject({ url: '/api/no/such/route/' });
    expect(missing.headers['cache-control']).toBe('no-store');
  });

  it('serves metrics without a token to loopback callers only', async () => {
    const remote = await t.app.inject({ url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(403);
    expect(remote.body).not.toContain('axon_http_requests_total');
    const v6 = await t.app.inject({ url: '/metrics', remoteAddress: '::1' });
    expect(v6.statusCode).toBe(200);
  });
});

describe('slowed-down logins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { AXON_LOGIN_RATE_LIMIT: '1', AXON_LOGIN_DELAYED_MAX: '1' });
    await registerUser(t.app, 'owner', 'the owner password');
  });
  afterAll(() => t.close());

  const attempt = (password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'owner', password },
    });
  it('wait on a timer, a bounded number at once: one more gets 503 SERVER_BUSY', async () => {
    expect((await attempt('wrong one')).statusCode).toBe(401);
    // Past the free attempt: the first waits out its delay, the second finds the line full.
    const [first, second] = await Promise.all([attempt('wrong two'), attempt('wrong three')]);
    const codes = [first.statusCode, second.statusCode].sort();
    expect(codes).toEqual([401, 503]);
    const busy = first.statusCode === 503 ? first : second;
    expectErrorEnvelope(busy.json(), 'SERVER_BUSY');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    // The line is empty again: the owner's right password is slowed down, not refused.
    const owner = await attempt('the owner password');
    expect(owner.statusCode).toBe(200);
  });
});

describe('registration budget', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { AXON_REGISTER_RATE_LIMIT: '2' });
  });
  afterAll(() => t.close());

  it('holds for the whole instance, whatever Authorization header each request makes up', async () => {
    const register = async (i: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/register/',
        headers: { authorization: `Bearer made-up-${i}` },
        payload: {
          username: `newcomer${i}`,
          password: 'a long enough password',
          ...(await injectedProof(t.app)),
        },
      });
    expect((await register(1)).statusCode).toBe(201);
    expect((await register(2)).statusCode).toBe(201);
    const limited = await register(3);
    expect(limited.statusCode).toBe(429);
    expectErrorEnvelope(limited.json(), 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('metrics token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { AXON_METRICS_TOKEN: 'metrics-token-0123456789' });
  });
  afterAll(() => t.close());

  it('requires the token when one is configured', async () => {
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const res = await t.app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    expect(res.statusCode).toBe(200);
    for (const authorization of [
      'Bearer metrics-token-012345678',
      'Bearer metrics-token-0123456789x',
      'metrics-token-0123456789',
    ]) {
      const wrong = await t.app.inject({ url: '/metrics', headers: { authorization } });
      expect(wrong.statusCode).toBe(401);
    }
  });
});

describe.each(DIALECTS)('health on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(dialect);
  });
  afterAll(() => t.close());

  it('reports the database, background services, disk and chunk store', async () => {
    const res = await t.app.inject({ url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      status: 'healthy',
      reasons: [],
      database: { dialect, status: 'connected' },
      services: { 'session-cleanup': 'stopped' },
      chunk_store: 'ok',
    });
    const { free_bytes: free, total_bytes: total } = res.json().data.disk;
    expect(free).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(free);
  });

  it('logs one line per request: id, route, status, time, and no address or token', async () => {
    const token = 'Bearer secret-token-that-must-not-be-logged';
    const res = await t.app.inject({
      url: '/api/health?probe=1',
      headers: { authorization: token },
    });
    const lines = t.logs.filter((l) => l.includes(res.headers['x-request-id'] as string));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      route: '/api/health',
      status: 200,
      method: 'GET',
      msg: 'request',
    });
    expect(typeof line.ms).toBe('number');
    expect(lines[0]).not.toMatch(/127\.0\.0\.1|secret-token|probe/);
  });

  it('is degraded, with the reason, when the chunk store folder cannot be written', async () => {
    // A file where the folder should be: no blob could be stored.
    const folder = t.ctx.config.chunkStoreDir;
    const existed = existsSync(folder);
    if (existed) renameSync(folder, `${folder}.away`);
    writeFileSync(folder, 'not a folder');
    try {
      const res = await t.app.inject({ url: '/api/health' });
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toMatchObject({
        status: 'degraded',
        chunk_store: 'unwritable',
        reasons: ['the chunk store folder is not a writable folder'],
      });
    } finally {
      rmSync(folder);
      if (existed) renameSync(`${folder}.away`, folder);
    }
  });

  it('answers 503 once the database is gone', async () => {
    await t.ctx.database.close();
    const res = await t.app.inject({ url: '/api/health' });
    expect(res.statusCode).toBe(503);
    expectErrorEnvelope(res.json(), 'SERVICE_UNAVAILABLE');
    expect(res.json().error.details.database.status).toBe('unreachable');
  });
});
