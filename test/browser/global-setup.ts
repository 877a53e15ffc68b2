// Starts one Axon server (SQLite, a fresh data folder, a free port) for the browser tests, with a
// sysop, a moderator and a public board; the tests find it through AXON_BROWSER_TEST_URL.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PASSWORD, SYSOP, MODERATOR, apiCall, login } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const AXON = path.join(ROOT, 'bin', 'axon.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'axon-browser-'));
  const env = {
    ...process.env,
    AXON_DATA_DIR: dataDir,
    DATABASE_URL: '',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    AXON_LOGIN_RATE_LIMIT: '1000',
    AXON_REGISTER_RATE_LIMIT: '1000',
    // Small, so the size check before uploading can be tried with a small file.
    AXON_UPLOAD_LIMIT: String(2 * 1024 * 1024),
  };
  for (const [name, role] of [
    [SYSOP, '--sysop'],
    [MODERATOR, '--moderator'],
  ] as const) {
    const created = spawnSync(
      process.execPath,
      [AXON, 'user', 'create', name, '--password-stdin', role],
      {
        env,
        input: PASSWORD,
        encoding: 'utf8',
      },
    );
    if (created.status !== 0) throw new Error(`axon user create ${name}: ${created.stderr}`);
  }
  const port = await freePort();
  const server = spawn(process.execPath, [AXON, 'start'], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 600 || server.exitCode !== null) throw new Error('the Axon server did not start');
    await sleep(100);
  }
  process.env.AXON_BROWSER_TEST_URL = url;
  const sysop = await login(url, SYSOP);
  await apiCall(url, '/api/boards/', {
    token: sysop.token,
    body: {
      name: 'General',
      description: 'Anything goes',
      read_access: 'public',
      post_access: 'members',
    },
  });
  return async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
