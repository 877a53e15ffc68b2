// The instance's own /metrics series on SQLite and PostgreSQL: realtime events and waiting
// clients, BitSync bytes stored (local versus remote) and served to clients, the page cache's
// bytes, and the shared background jobs' runs and failures, each moving with what happened.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  multipartFile,
  registerUser,
  sayInChat,
  startTestApp,
  type Account,
  type TestApp,
} from '../../test-support/app.js';
import { DIALECTS } from '../../test-support/databases.js';

/** The value of one series in a Prometheus text answer, or undefined when absent. */
function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe.each(DIALECTS)('instance metrics on %s', (dialect) => {
  let t: TestApp;
  let alice: Account;
  const scrape = async () => (await t.app.inject({ url: '/metrics' })).body;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    alice = await registerUser(t.app, 'alice');
  });
  afterAll(() => t.close());

  it('counts BitSync bytes stored and served to clients', async () => {
    const before = await scrape();
    expect(series(before, 'axon_bitsync_stored_bytes{origin="local"}')).toBe(0);
    expect(series(before, 'axon_bitsync_stored_bytes{origin="remote"}')).toBe(0);
    const bytes = randomBytes(100_000);
    const form = multipartFile(bytes, 'a.bin');
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/content/upload/',
      payload: form.payload,
      headers: { ...form.headers, ...bearer(alice.token) },
    });
    expect(upload.statusCode).toBe(201);
    const hash = (upload.json() as { data: { content_hash: string } }).data.content_hash;
    const stream = await t.app.inject({
      url: `/api/content/stream/${hash}/`,
      headers: bearer(alice.token),
    });
    expect(stream.rawPayload.equals(bytes)).toBe(true);
    const after = await scrape();
    expect(series(after, 'axon_bitsync_stored_bytes{origin="local"}')).toBe(bytes.length);
    expect(series(after, 'axon_bitsync_served_bytes_total{to="client"}')).toBe(bytes.length);
    expect(series(after, 'axon_bitsync_fetched_bytes')).toBe(0);
  });

  it('counts realtime events and shows waiting clients and cache bytes', async () => {
    await sayInChat(t, alice.token, 'counted');
    const text = await scrape();
    expect(series(text, 'axon_realtime_events_total{channel="board"}')).toBeGreaterThanOrEqual(1);
    expect(series(text, 'axon_realtime_waiting_clients')).toBe(0);
    expect(series(text, 'axon_cache_bytes{cache="board_pages"}')).toBeGreaterThanOrEqual(0);
  });

  it("reports the shared background jobs' runs and failures", async () => {
    expect(await t.ctx.jobs.claim('retention', 60_000)).toBe(true);
    await t.ctx.jobs.finished('retention', new Error('test failure'));
    const text = await scrape();
    expect(series(text, 'axon_background_job_runs{job="retention"}')).toBe(1);
    expect(series(text, 'axon_background_job_failures{job="retention"}')).toBe(1);
    const health = (await t.app.inject({ url: '/api/health' })).json() as {
      data: { status: string; reasons: string[] };
    };
    expect(health.data.status).toBe('degraded');
    expect(health.data.reasons).toContain(
      'the background job retention failed on its last run: test failure',
    );
  });
});
