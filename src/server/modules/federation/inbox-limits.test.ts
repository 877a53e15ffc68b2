// A peer's limits at the inbox on SQLite and PostgreSQL: objects per minute counted in the
// database (two processes share one window), a batch past it answered 429 with nothing applied,
// and a peer's concurrent inbox requests bounded before their bodies are read.
import net from 'node:net';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, listen, startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import {
  insertPeer,
  signedHeaders,
  testPeerKey,
  type TestPeerKey,
} from '../../../test-support/federation-keys.js';
import { until } from '../../../test-support/wait.js';
import {
  INBOX_RUNNING_PER_PEER,
  INBOX_WAITING_PER_PEER,
  InboxLimits,
  RATE_WINDOW_MS,
} from './inbox-limits.js';
import { verifyResponse } from './signing.js';

const INBOX = '/api/federation/inbox/';
const HOST = 'b.example';

describe.each(DIALECTS)('inbox limits on %s', (dialect) => {
  let t: TestApp;
  let peer: TestPeerKey;

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_PUBLIC_HOSTS: HOST });
    peer = testPeerKey();
    await insertPeer(t.ctx.database, peer, { base_url: 'https://a.example', trusted: true });
  });
  afterAll(() => t.close());

  const setLimit = (limit: number | null) =>
    t.ctx.database.db
      .updateTable('peers')
      .set({ objects_per_minute: limit })
      .where('fingerprint', '=', peer.fingerprint)
      .execute();

  const windowOf = async () =>
    t.ctx.database.db
      .selectFrom('peer_delivery')
      .select(['inbox_window_start', 'inbox_window_objects', 'last_error'])
      .where('peer_fingerprint', '=', peer.fingerprint)
      .executeTakeFirstOrThrow();

  it('counts objects per minute in the database, shared by two processes', async () => {
    const row = { fingerprint: '1'.repeat(64), objects_per_minute: 10 };
    // Two processes of one instance: each its own InboxLimits, the same database.
    const one = new InboxLimits(t.ctx.database, 60_000);
    const two = new InboxLimits(t.ctx.database, 60_000);
    const now = 1_000_000_000;
    expect(await one.take(row, 6, now)).toBeUndefined();
    expect(await two.take(row, 4, now + 1000)).toBeUndefined();
    // The window is full for both: the wait runs to its end.
    expect(await one.take(row, 1, now + 2000)).toBe(RATE_WINDOW_MS - 2000);
    expect(await two.take(row, 1, now + 30_000)).toBe(RATE_WINDOW_MS - 30_000);
    // A batch larger than the limit never fits, even in a fresh window.
    expect(await two.take(row, 11, now + RATE_WINDOW_MS)).toBeGreaterThan(0);
    // The next window starts with the next objects.
    expect(await one.take(row, 10, now + RATE_WINDOW_MS)).toBeUndefined();
    expect(await two.take(row, 1, now + RATE_WINDOW_MS + 1)).toBe(RATE_WINDOW_MS - 1);
    // Without a limit of its own, the instance default holds.
    const open = { fingerprint: '2'.repeat(64), objects_per_minute: null };
    expect(await new InboxLimits(t.ctx.database, 3).take(open, 3, now)).toBeUndefined();
    expect(await new InboxLimits(t.ctx.database, 3).take(open, 1, now)).toBe(RATE_WINDOW_MS);
  });

  async function postInbox(objects: unknown[]) {
    const body = Buffer.from(JSON.stringify({ objects }));
    const headers = signedHeaders(peer, { method: 'POST', pathAndQuery: INBOX, host: HOST, body });
    const res = await t.app.inject({
      method: 'POST',
      url: INBOX,
      headers: { host: HOST, 'content-type': 'application/json', ...headers },
      payload: body,
    });
    return { res, nonce: headers['x-nonce'] };
  }

  it('answers 429 past the peer’s objects per minute, signed, applying nothing', async () => {
    await setLimit(2);
    // Objects that would be refused one by one: only the limit decides here.
    const junk = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'message', id: i }));
    const first = await postInbox(junk(2));
    expect(first.res.statusCode, first.res.body).toBe(200);
    const before = await countRows(t, 'federation_log');
    const refusedBefore = await t.ctx.database.db
      .selectFrom('peer_delivery')
      .select('refused_in')
      .where('peer_fingerprint', '=', peer.fingerprint)
      .executeTakeFirstOrThrow();

    const { res, nonce } = await postInbox(junk(1));
    expect(res.statusCode).toBe(429);
    const error = res.json().error;
    expect(error.code).toBe('FEDERATION_RATE_LIMITED');
    expect(error.details.objects_per_minute).toBe(2);
    expect(error.details.retry_after_seconds).toBeGreaterThan(0);
    expect(error.details.retry_after_seconds).toBeLessThanOrEqual(60);
    expect(res.headers['retry-after']).toBe(String(error.details.retry_after_seconds));
    expect(
      verifyResponse(
        createPublicKey(t.ctx.identity.pubkey),
        nonce,
        429,
        res.rawPayload,
        String(res.headers['x-signature']),
      ),
    ).toBe(true);
    // Nothing applied or counted as refused, the window unchanged, and the refusal in its health.
    expect(await countRows(t, 'federation_log')).toBe(before);
    const after = await windowOf();
    expect(after.inbox_window_objects).toBe(2);
    expect(after.last_error).toMatch(/^inbox throttled: this peer sent its 2 objects/);
    expect(
      (
        await t.ctx.database.db
          .selectFrom('peer_delivery')
          .select('refused_in')
          .where('peer_fingerprint', '=', peer.fingerprint)
          .executeTakeFirstOrThrow()
      ).refused_in,
    ).toBe(refusedBefore.refused_in);

    // A batch past the limit says so: the sender must split it.
    await setLimit(1);
    await t.ctx.database.db
      .updateTable('peer_delivery')
      .set({ inbox_window_start: 0, inbox_window_objects: 0 })
      .where('peer_fingerprint', '=', peer.fingerprint)
      .execute();
    const tooBig = await postInbox(junk(2));
    expect(tooBig.res.statusCode).toBe(429);
    expect(tooBig.res.json().error.message).toBe(
      'a batch of 2 objects is more than this peer may send in a minute (1); send at most 1 at once',
    );
    await setLimit(null);
  });

  it('bounds a peer’s concurrent inbox requests before reading their bodies', async () => {
    const url = new URL(await listen(t));
    // Each request sends its headers and only a byte of its 8 MiB body: those let in hold a
    // slot, the others wait unread, and one past the line is answered 503 at once.
    const body = Buffer.alloc(8 * 1024 * 1024, 0x20);
    const sockets: net.Socket[] = [];
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const headers = signedHeaders(peer, {
          method: 'POST',
          pathAndQuery: INBOX,
          host: HOST,
          body,
        });
        const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
          const lines = [
            `POST ${INBOX} HTTP/1.1`,
            `host: ${HOST}`,
            'content-type: application/json',
            `content-length: ${body.length}`,
            ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
          ];
          socket.write(`${lines.join('\r\n')}\r\n\r\n `);
          resolve(socket);
        });
        socket.once('error', reject);
        sockets.push(socket);
      });
    const total = INBOX_RUNNING_PER_PEER + INBOX_WAITING_PER_PEER;
    for (let i = 0; i < total; i++) await open();
    const limits = t.ctx.inbox.limits;
    await until(() => {
      const load = limits.load(peer.fingerprint);
      return load.running === INBOX_RUNNING_PER_PEER && load.waiting === INBOX_WAITING_PER_PEER;
    });
    const extra = await open();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      extra.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer.toLowerCase()).toContain('retry-after: 2');
    // Still bounded: nobody got in past the limit.
    expect(limits.load(peer.fingerprint)).toEqual({
      running: INBOX_RUNNING_PER_PEER,
      waiting: INBOX_WAITING_PER_PEER,
    });
    // Connections that go away give their slots back.
    for (const socket of sockets) socket.destroy();
    await until(() => limits.load(peer.fingerprint).running === 0);
    expect(limits.load(peer.fingerprint)).toEqual({ running: 0, waiting: 0 });
  });
});
