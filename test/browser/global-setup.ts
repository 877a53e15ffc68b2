// Starts one Axon server (SQLite, a fresh data folder, a free port) for the browser tests, with a
// sysop, a moderator and a public board; the tests find it through AXON_BROWSER_TEST_URL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAxon, startAxon } from '../../src/test-support/axon-process.js';
import { PASSWORD, SYSOP, MODERATOR, apiCall, login } from './support.js';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'axon-browser-'));
  const env = {
    AXON_DATA_DIR: dataDir,
    AXON_LOGIN_RATE_LIMIT: '1000',
    AXON_REGISTER_RATE_LIMIT: '1000',
    // Small, so the size check before uploading can be tried with a small file.
    AXON_UPLOAD_LIMIT: String(2 * 1024 * 1024),
  };
  for (const [name, role] of [
    [SYSOP, '--sysop'],
    [MODERATOR, '--moderator'],
  ] as const) {
    const created = await runAxon(['user', 'create', name, '--password-stdin', role], {
      env,
      input: PASSWORD,
    });
    if (created.code !== 0) throw new Error(`axon user create ${name}: ${created.stderr}`);
  }
  const server = await startAxon({ env });
  process.env.AXON_BROWSER_TEST_URL = server.url;
  const sysop = await login(server.url, SYSOP);
  await apiCall(server.url, '/api/boards/', {
    token: sysop.token,
    body: {
      name: 'General',
      description: 'Anything goes',
      read_access: 'public',
      post_access: 'members',
    },
  });
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
