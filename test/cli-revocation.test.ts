// Bans made with the CLI reach the open streams of a running server on SQLite, where there is no
// NOTIFY: the CLI moves the revocation generation in the database and the server, polling it,
// checks its streams again. Real processes: `axon start` and `axon user ban|ban-key`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxon, startAxon, type ChildServer } from '../src/test-support/axon-process.js';
import { registrationProof } from '../src/test-support/registration.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'axon-cli-ban-'));
const env = { AXON_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'axon.db')}` };
let server: ChildServer;

async function call<T>(url: string, body?: unknown, token?: string): Promise<T> {
  const response = await fetch(url, {
    method: body === undefined && token === undefined ? 'GET' : 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

async function register(username: string) {
  return call<{ token: string; user: { fingerprint: string } }>(
    `${server.url}/api/auth/register/`,
    { username, password: 'correct horse battery', ...(await registrationProof(server.url)) },
  );
}

/** Opens the chat stream as `token`; resolves `ended` when the server ends it. */
async function openStream(token: string): Promise<{ ended: Promise<void> }> {
  const { stream_token } = await call<{ stream_token: string }>(
    `${server.url}/api/chat/events/stream_token/`,
    undefined,
    token,
  );
  const response = await fetch(
    `${server.url}/api/chat/events/stream/?stream_token=${stream_token}`,
  );
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const ended = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // a reset is an end too
    }
  })();
  return { ended };
}

describe('CLI bans on SQLite reach open streams', () => {
  beforeAll(async () => {
    server = await startAxon({ env });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends the streams of a user banned with `axon user ban`', async () => {
    const mallory = await register('mallory');
    const bystander = await register('bystander');
    const banned = await openStream(mallory.token);
    const other = await openStream(bystander.token);
    const ran = await runAxon(['user', 'ban', 'mallory', '--reason', 'spam'], { env });
    expect(ran.code).toBe(0);
    await banned.ended;
    // The bystander's stream stays open: it still answers a post of theirs.
    let otherEnded = false;
    void other.ended.then(() => (otherEnded = true));
    await call(`${server.url}/api/chat/post/`, { text: 'still here' }, bystander.token);
    expect(otherEnded).toBe(false);
  });

  it('ends the streams of a key banned with `axon user ban-key`', async () => {
    const trent = await register('trent');
    const stream = await openStream(trent.token);
    const ran = await runAxon(['user', 'ban-key', trent.user.fingerprint], { env });
    expect(ran.code).toBe(0);
    await stream.ended;
  });
});
