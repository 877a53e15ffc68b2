// A key change told through the signed channel, with real processes: A (SQLite) and B (PostgreSQL)
// share a board; A is backed up and restored as a new identity on the same address; the restored A
// sends B a key-change notice signed by its old and new keys; B holds the new key as pending (its
// health says so) until its sysop accepts it, and then A's posts flow to B again. A notice the old
// key did not sign changes nothing.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signing.js';
import { openDatabase } from '../src/server/db/database.js';
import { FederationClient } from '../src/server/modules/federation/client.js';
import { runAxon, startAxon, type ChildServer } from '../src/test-support/axon-process.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';
import {
  api,
  type Instance,
  makePeers,
  registerOn,
  shareBoard,
  startInstance,
  waitForEvents,
} from '../src/test-support/federation.js';

const PASSPHRASE = 'a long backup passphrase';

/** Checks again after a short pause until the condition holds (no limit: the test's own timeout). */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('a key change after a restore as a new identity', () => {
  let a: Instance;
  let b: Instance;
  let boards: Record<string, string>;
  let restoredDb: TestDatabase | undefined;
  let restored: ChildServer | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance('a', 'sqlite'), startInstance('b', 'postgres')]);
    await makePeers(a, b);
    boards = await shareBoard('keys', [
      [a, [b]],
      [b, [a]],
    ]);
  });
  afterAll(async () => {
    await restored?.stop();
    await restoredDb?.drop();
    await Promise.all([a?.close(), b?.close()]);
  });

  const peerOnB = () =>
    b.database.db
      .selectFrom('peers')
      .selectAll()
      .where('nickname', '=', a.identity.nickname)
      .executeTakeFirstOrThrow();

  it('refuses a notice the old key did not sign, and changes nothing', async () => {
    const d = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const dPem = d.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const body = {
      type: 'key-change' as const,
      previous_pubkey: a.identity.pubkey,
      pubkey: dPem,
      created_at: new Date().toISOString(),
    };
    const forged = {
      ...body,
      signatures: {
        previous: signObject(body, d.privateKey).signature,
        new: signObject(body, d.privateKey).signature,
      },
    };
    const client = new FederationClient(
      { privateKey: d.privateKey, pubkey: dPem },
      { proxy: undefined, responseLimit: 1024 * 1024, connectTimeoutMs: 10_000, timeoutMs: 30_000 },
    );
    const answer = await client.request(
      { base_url: b.url, pubkey: b.identity.pubkey, transport: 'direct', proxy_url: null },
      { method: 'POST', path: '/api/federation/key_change/', body: forged },
    );
    expect(answer.status).toBe(401);
    expect(answer.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'FEDERATION_SIGNATURE',
      message: 'key-change notice: the previous key did not sign this notice',
    });
    const peer = await peerOnB();
    expect(peer.pending_fingerprint).toBeNull();
    expect(fingerprintOf(d.publicKey)).not.toBe(peer.fingerprint);
  });

  it('tells B through the signed channel; B accepts after its sysop confirms; posts flow again', async () => {
    const alice = await registerOn(a, 'alice');
    await api(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject: 'before the move', body: 'old key.' },
    });
    const [first] = await waitForEvents(b, boards.b!, 1);
    expect(first!.subject).toBe('before the move');

    const backup = path.join(mkdtempSync(path.join(tmpdir(), 'axon-keychange-')), 'backup');
    const made = await runAxon(['backup', backup, '--passphrase-stdin'], {
      env: a.env,
      input: PASSPHRASE,
    });
    expect(made.code, made.stderr).toBe(0);
    await a.stop();
    restoredDb = await createTestDatabase('sqlite');
    const env = { ...a.env, DATABASE_URL: restoredDb.url, AXON_DATA_DIR: restoredDb.dir };
    const done = await runAxon(['restore', backup, '--passphrase-stdin', '--new-identity'], {
      env,
      input: PASSPHRASE,
    });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('a key-change notice signed by the previous and the new key');
    restored = await startAxon({ env: { ...env, PORT: new URL(a.url).port } });
    const identity = await api<{ fingerprint: string }>(restored, '/api/federation/identity/');
    expect(identity.fingerprint).not.toBe(a.identity.fingerprint);

    // B holds the new key as pending, and trusts nothing of it yet.
    await eventually(async () => (await peerOnB()).pending_fingerprint === identity.fingerprint);
    const held = await api<{ fingerprint: string; health: { state: string } }>(
      b,
      `/api/federation/peers/${a.identity.fingerprint}/`,
      { token: b.sysopToken },
    );
    expect(held.fingerprint).toBe(a.identity.fingerprint);
    expect(held.health.state).toBe('untrusted');
    // The restored A marks its notice sent once B's signed answer came.
    const restoredDatabase = openDatabase(restoredDb.config);
    try {
      const notice = () =>
        restoredDatabase.db.selectFrom('key_change_notices').selectAll().executeTakeFirstOrThrow();
      expect((await notice()).peer_fingerprint).toBe(b.identity.fingerprint);
      await eventually(async () => (await notice()).sent_at !== null);
      expect((await notice()).last_error).toBeNull();
    } finally {
      await restoredDatabase.close();
    }

    // Alice posts on the restored A before B's sysop has said yes: it waits.
    await api(restored, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject: 'after the move', body: 'new key.' },
    });
    // B's sysop confirms the new fingerprint (the accept-key flow of `axon peer accept-key`).
    await api(b, `/api/federation/peers/${a.identity.fingerprint}/accept_key/`, {
      method: 'POST',
      token: b.sysopToken,
      body: { fingerprint: identity.fingerprint },
    });
    expect((await peerOnB()).fingerprint).toBe(identity.fingerprint);
    const [second] = await waitForEvents(b, boards.b!, 1, first!.cursor);
    expect(second!.subject).toBe('after the move');
  });
});
