// `axon peer …` end to end: the CLI as a child process on a real data directory, against a real
// peer instance on loopback that is later replaced, at the same address, by one with another key.
// The tests run in order and build on one another's registry.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFingerprint } from '../src/server/modules/federation/identity.js';
import { runAxon } from '../src/test-support/axon-process.js';
import {
  freePort,
  startPeerInstance,
  type PeerInstance,
} from '../src/test-support/peer-instance.js';

describe('axon peer', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'axon-cli-peer-'));
  const axon = (...args: string[]) =>
    runAxon(['peer', ...args], { env: { AXON_DATA_DIR: dataDir } });
  let port: number;
  let peer: PeerInstance;
  let replacement: PeerInstance | undefined;

  beforeAll(async () => {
    port = await freePort();
    peer = await startPeerInstance(port);
  });
  afterAll(async () => {
    await Promise.all([peer?.stop(), replacement?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the fingerprint grouped in fours and adds nothing unless it is confirmed', async () => {
    const unconfirmed = await axon('add', peer.url);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toContain(formatFingerprint(peer.fingerprint));
    expect(unconfirmed.stderr).toMatch(/not added: .*--fingerprint/);

    const other = 'ab'.repeat(32);
    const mismatch = await axon('add', peer.url, '--fingerprint', other);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`the peer shows the key ${peer.fingerprint}, not ${other}`);

    const usage = await axon('add', peer.url, '--transport', 'socks5');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('proxy_url: is required with socks5');
    const badUrl = await axon('add', 'gopher://example.org');
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('base_url: must be an http:// or https:// URL');

    expect((await axon('list')).stdout.trim()).toBe('no peers yet');
  });

  it('adds a peer pinned with --fingerprint (as shown, grouped) and lists it with its state', async () => {
    const added = await axon(
      'add',
      peer.url,
      '--fingerprint',
      formatFingerprint(peer.fingerprint),
      '--json',
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      fingerprint: peer.fingerprint,
      nickname: peer.nickname,
      trusted: true,
      transport: 'direct',
      health: { state: 'healthy', queue_length: 0 },
    });
    const list = await axon('list');
    expect(list.stdout).toContain(peer.fingerprint.slice(0, 16));
    expect(list.stdout).toMatch(new RegExp(`${peer.nickname}\\s+healthy`));
  });

  it('untrusts and trusts a peer named by a fingerprint prefix, and reports its status', async () => {
    const prefix = peer.fingerprint.slice(0, 10);
    expect((await axon('untrust', prefix)).stdout).toContain('is no longer trusted');
    const status = await axon('status', peer.fingerprint);
    expect(status.stdout).toMatch(/state: +untrusted \(a sysop has not trusted it\)/);
    expect(status.stdout).toContain('chunk fetches pending: 0');
    expect((await axon('trust', prefix)).stdout).toContain('is trusted');
    const shown = JSON.parse((await axon('show', prefix, '--json')).stdout);
    expect(shown).toMatchObject({ trusted: true, health: { state: 'healthy' } });
    const unknown = await axon('show', 'ffffffffff');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no peer's fingerprint starts with ffffffffff");
  });

  it("sets a peer's limits, and 'default' gives it the instance's back", async () => {
    const prefix = peer.fingerprint.slice(0, 10);
    const set = await axon(
      'limits',
      prefix,
      '--objects-per-minute',
      '120',
      '--bytes-per-day',
      '5000',
    );
    expect(set.stderr).toBe('');
    expect(set.stdout).toMatch(
      /objects per minute 120, largest attachment default bytes, 5000 bytes per day/,
    );
    const shown = JSON.parse((await axon('show', prefix, '--json')).stdout);
    expect(shown.limits).toEqual({
      objects_per_minute: 120,
      max_attachment_bytes: null,
      bytes_per_day: 5000,
    });
    const bad = await axon('limits', prefix, '--objects-per-minute', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('objects_per_minute:');
    expect((await axon('limits', prefix)).code).toBe(2);
    await axon('limits', prefix, '--objects-per-minute', 'default', '--bytes-per-day', 'default');
    expect(JSON.parse((await axon('show', prefix, '--json')).stdout).limits).toEqual({
      objects_per_minute: null,
      max_attachment_bytes: null,
      bytes_per_day: null,
    });
  });

  it('holds a new key until accept-key gets exactly its fingerprint', async () => {
    await peer.stop();
    replacement = await startPeerInstance(port);
    const refreshed = await axon('refresh', peer.fingerprint);
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toContain('ANOTHER key');
    expect(refreshed.stdout).toContain(formatFingerprint(replacement.fingerprint));
    expect((await axon('status')).stdout).toMatch(/state: +untrusted \(its key changed/);

    const wrong = await axon('accept-key', peer.fingerprint, 'cd'.repeat(32));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the pending key is ${replacement.fingerprint}`);
    const accepted = await axon('accept-key', peer.fingerprint, replacement.fingerprint);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(formatFingerprint(replacement.fingerprint));
    expect(JSON.parse((await axon('list', '--json')).stdout)).toMatchObject([
      { fingerprint: replacement.fingerprint, pending_fingerprint: null },
    ]);
  });

  it('removes a peer, and adds one with --yes', async () => {
    const removed = await axon('remove', replacement!.fingerprint);
    expect(removed.stdout).toContain('removed');
    expect((await axon('list')).stdout.trim()).toBe('no peers yet');
    const yes = await axon('add', replacement!.url, '--yes', '--moderation', '--nickname', 'Gamma');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain(formatFingerprint(replacement!.fingerprint));
    expect(yes.stdout).toContain('added Gamma');
    expect(
      JSON.parse((await axon('show', replacement!.fingerprint, '--json')).stdout),
    ).toMatchObject({
      nickname: 'Gamma',
      trusted_for_moderation: true,
    });
  });
});
