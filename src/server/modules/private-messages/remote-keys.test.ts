// The cache of remote users' keys on SQLite and PostgreSQL, with a peer that answers from a table
// (the peer's side of the lookup is tested over real HTTP in test/federation-pm.test.ts): fresh
// entries are used without asking, old ones are asked again and follow a key change, an
// unreachable peer falls back to a cached key, wrong answers are refused, and the cache is bounded.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../crypto/keys.js';
import type { PeerRow } from '../../db/schema.js';
import { startTestApp, type TestApp } from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { insertPeer, testPeerKey } from '../../../test-support/federation-keys.js';
import { FederationError, type FederationRequest } from '../federation/client.js';
import { KEY_FRESH_MS, KEY_STALE_MS, RemoteKeys } from './remote.js';

function userKey() {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(publicKey),
  };
}

/** A peer answering key lookups from `users` (by lowercased name), or down. */
class Peer {
  users = new Map<string, object>();
  down = false;
  asked: string[] = [];
  request(_peer: unknown, request: FederationRequest) {
    this.asked.push(request.path);
    if (this.down) return Promise.reject(new FederationError('connection refused'));
    const name = decodeURIComponent(request.path.split('/')[4]!).toLowerCase();
    const user = this.users.get(name);
    const body = Buffer.from(
      JSON.stringify(user === undefined ? { error: { code: 'NOT_FOUND' } } : { data: user }),
    );
    return Promise.resolve({
      status: user === undefined ? 404 : 200,
      body,
      json: <T>() => JSON.parse(body.toString()) as T,
    });
  }
}

describe.each(DIALECTS)('remote user keys on %s', (dialect) => {
  let t: TestApp;
  let peer: PeerRow;
  let remote: Peer;
  let keys: RemoteKeys;
  const bob = { username: 'Bob', nickname: 'bobby', ...userKey() };

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const key = testPeerKey();
    await insertPeer(t.ctx.database, key, { base_url: 'https://b.example', trusted: true });
    peer = await t.ctx.database.db
      .selectFrom('peers')
      .selectAll()
      .where('fingerprint', '=', key.fingerprint)
      .executeTakeFirstOrThrow();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.ctx.database.db.deleteFrom('remote_user_keys').execute();
    remote = new Peer();
    remote.users.set('bob', bob);
    remote.users.set(bob.fingerprint, bob);
    keys = new RemoteKeys(t.ctx.database, remote, 3);
  });

  it('asks once, then uses the cached key while it is fresh, by username in any case', async () => {
    const now = Date.now();
    expect(await keys.lookup(peer, 'bob', now)).toMatchObject({ fingerprint: bob.fingerprint });
    expect(await keys.lookup(peer, 'BOB', now + KEY_FRESH_MS - 1)).toMatchObject({
      nickname: 'bobby',
    });
    expect(remote.asked).toEqual(['/api/federation/users/bob/key/']);
  });

  it('asks again once the entry is old, and follows a changed key', async () => {
    const now = Date.now();
    await keys.lookup(peer, 'bob', now);
    const changed = { ...bob, ...userKey() };
    remote.users.set('bob', changed);
    const again = await keys.lookup(peer, 'bob', now + KEY_FRESH_MS);
    expect(again.fingerprint).toBe(changed.fingerprint);
    expect(remote.asked).toHaveLength(2);
    // The new key is what the cache now holds.
    expect((await keys.lookup(peer, 'bob', now + KEY_FRESH_MS)).fingerprint).toBe(
      changed.fingerprint,
    );
    expect(remote.asked).toHaveLength(2);
  });

  it('falls back to a cached key while the peer is down, up to its age limit', async () => {
    const now = Date.now();
    await keys.lookup(peer, 'bob', now);
    remote.down = true;
    expect((await keys.lookup(peer, 'bob', now + KEY_STALE_MS - 1)).fingerprint).toBe(
      bob.fingerprint,
    );
    await expect(keys.lookup(peer, 'bob', now + KEY_STALE_MS)).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
    });
    await expect(keys.lookup(peer, 'carol', now)).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
    });
  });

  it('answers an unknown user with a field error and forgets what it had', async () => {
    const now = Date.now();
    await keys.lookup(peer, 'bob', now);
    remote.users.delete('bob');
    await expect(keys.lookup(peer, 'bob', now + KEY_FRESH_MS)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('no user "bob"'),
    });
    expect(await t.ctx.database.db.selectFrom('remote_user_keys').selectAll().execute()).toEqual(
      [],
    );
  });

  it('refuses an answer for another user or another key, caching nothing', async () => {
    remote.users.set('mallory', bob);
    await expect(keys.lookup(peer, 'mallory')).rejects.toMatchObject({ code: 'PEER_UNREACHABLE' });
    const other = userKey();
    remote.users.set(other.fingerprint, bob);
    await expect(keys.lookup(peer, other.fingerprint)).rejects.toMatchObject({
      code: 'PEER_UNREACHABLE',
    });
    remote.users.set('liar', { ...bob, username: 'liar', fingerprint: other.fingerprint });
    await expect(keys.lookup(peer, 'liar')).rejects.toMatchObject({ code: 'PEER_UNREACHABLE' });
    expect(await t.ctx.database.db.selectFrom('remote_user_keys').selectAll().execute()).toEqual(
      [],
    );
  });

  it('keeps at most its bound of entries, dropping the least recently fetched', async () => {
    const now = Date.now();
    for (const [i, name] of ['u1', 'u2', 'u3', 'u4'].entries()) {
      remote.users.set(name, { ...bob, username: name });
      await keys.lookup(peer, name, now + i);
    }
    const names = await t.ctx.database.db
      .selectFrom('remote_user_keys')
      .select('name')
      .orderBy('name')
      .execute();
    expect(names.map((n) => n.name)).toEqual(['u2', 'u3', 'u4']);
  });

  it('forgets a key the peer said no user has', async () => {
    await keys.lookup(peer, 'bob');
    await keys.lookup(peer, bob.fingerprint);
    await keys.forgetKey(peer.fingerprint, bob.fingerprint);
    expect(await t.ctx.database.db.selectFrom('remote_user_keys').selectAll().execute()).toEqual(
      [],
    );
  });
});
