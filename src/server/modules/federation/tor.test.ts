// `axon tor init|status` as an operator runs them, the torrc checked by Tor itself, and the same
// status in /api/health.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test-support/app.js';
import { runAxon } from '../../../test-support/axon-process.js';
import { freePort, startRecordingSocks } from '../../../test-support/socks.js';

const ONION = `${'a'.repeat(56)}.onion`;

/** `tor --verify-config -f FILE`: exit code and output. */
function verifyWithTor(torrc: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('tor', ['--verify-config', '-f', torrc], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('axon tor', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'axon-tor-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('init writes a torrc Tor accepts and a hidden-service folder only its owner may open', async () => {
    const hidden = path.join(dir, 'tor', 'hs');
    const ran = await runAxon(['tor', 'init', '--dir', hidden, '--socks', '127.0.0.1:19050'], {
      env: { AXON_DATA_DIR: dir, PORT: '8123' },
    });
    expect(ran.code, ran.stderr).toBe(0);
    const torrc = path.join(dir, 'tor', 'torrc');
    expect(ran.stdout).toContain(`tor -f ${torrc}`);
    expect(ran.stdout).toContain('AXON_TOR_DIR=');
    expect(statSync(hidden).mode & 0o777).toBe(0o700);
    const verified = await verifyWithTor(torrc);
    expect(verified.code, verified.output).toBe(0);
    const text = readFileSync(torrc, 'utf8');
    expect(text).toContain(`HiddenServiceDir ${hidden}\n`);
    expect(text).toContain('HiddenServicePort 80 127.0.0.1:8123\n');
    expect(text).toContain('SocksPort 127.0.0.1:19050\n');
  });

  it('init makes an existing, too open folder private again', async () => {
    const hidden = path.join(dir, 'open', 'hs');
    mkdirSync(hidden, { recursive: true, mode: 0o755 });
    const ran = await runAxon(['tor', 'init', '--dir', hidden], { env: { AXON_DATA_DIR: dir } });
    expect(ran.code, ran.stderr).toBe(0);
    expect(statSync(hidden).mode & 0o777).toBe(0o700);
  });

  it('status reports the onion address and that the SOCKS port answers', async () => {
    const hidden = path.join(dir, 'status', 'hs');
    mkdirSync(hidden, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(hidden, 'hostname'), `${ONION}\n`);
    const socks = await startRecordingSocks();
    try {
      const ran = await runAxon(['tor', 'status', '--json'], {
        env: {
          AXON_DATA_DIR: dir,
          AXON_TOR_DIR: hidden,
          AXON_TOR_SOCKS: `127.0.0.1:${socks.port}`,
        },
      });
      expect(ran.code, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toEqual({ onion_address: ONION, socks_ok: true });
    } finally {
      await socks.stop();
    }
    const closed = await freePort();
    const down = await runAxon(['tor', 'status', '--json'], {
      env: { AXON_DATA_DIR: dir, AXON_TOR_DIR: hidden, AXON_TOR_SOCKS: `127.0.0.1:${closed}` },
    });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toEqual({ onion_address: ONION, socks_ok: false });
    expect(down.stderr).toMatch(/Tor is not serving this instance yet/);
  });
});

describe('/api/health and Tor', () => {
  let plain: TestApp;
  let onion: TestApp;
  let socks: Awaited<ReturnType<typeof startRecordingSocks>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'axon-tor-health-'));
    writeFileSync(path.join(dir, 'hostname'), `${ONION}\n`);
    socks = await startRecordingSocks();
    plain = await startTestApp('sqlite');
    onion = await startTestApp('sqlite', {
      AXON_TOR_DIR: dir,
      AXON_TOR_SOCKS: `127.0.0.1:${socks.port}`,
    });
  });
  afterAll(async () => {
    await plain.close();
    await onion.close();
    await socks.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports nulls when Tor is not configured', async () => {
    const res = await plain.app.inject({ url: '/api/health' });
    expect(res.json().data.tor).toEqual({ onion_address: null, socks_ok: null });
  });

  it('reports the onion address and the SOCKS port when it is', async () => {
    const res = await onion.app.inject({ url: '/api/health' });
    expect(res.json().data.tor).toEqual({ onion_address: ONION, socks_ok: true });
  });
});
