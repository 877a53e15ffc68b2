// Crash safety of uploads: a server killed with SIGKILL in the middle of an upload (while the file
// arrives, and just after its last byte) leaves no blob under a valid name that fails its hash and
// no manifest pointing at a missing blob; after a restart the store verifies and works.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxon, startAxon, type ChildServer } from '../src/test-support/axon-process.js';
import { registrationProof } from '../src/test-support/registration.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'axon-crash-'));
const env = { AXON_DATA_DIR: dataDir, AXON_REGISTER_RATE_LIMIT: '1000' };
let server: ChildServer | undefined;

async function start(): Promise<string> {
  server = await startAxon({ env });
  return server.url;
}

/** SIGKILL; resolves once the process is gone (also when a kill is already under way). */
async function kill(): Promise<void> {
  await server?.stop('SIGKILL');
}

/** Sends a multipart upload of `size` bytes in pieces; calls `at(sent)` after each piece. */
function slowUpload(
  base: string,
  token: string,
  size: number,
  at: (sent: number) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const boundary = 'axoncrashtest';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const request = http.request(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
      },
    });
    request.on('error', () => resolve());
    request.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    request.write(head);
    let sent = 0;
    const piece = 256 * 1024;
    const next = () => {
      if (sent >= size) {
        request.end(tail);
        at(sent);
        return;
      }
      const n = Math.min(piece, size - sent);
      request.write(randomBytes(n), () => {
        sent += n;
        at(sent);
        setTimeout(next, 5);
      });
    };
    next();
  });
}

function blobFiles(): string[] {
  const root = path.join(dataDir, 'chunks', 'blobs');
  const files: string[] = [];
  for (const fan of readdirSync(root))
    for (const name of readdirSync(path.join(root, fan))) files.push(path.join(root, fan, name));
  return files;
}

describe('a server killed mid-upload', () => {
  let token: string;

  beforeAll(async () => {
    const base = await start();
    const res = await fetch(`${base}/api/auth/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'uploader',
        password: 'uploader password',
        ...(await registrationProof(base)),
      }),
    });
    token = ((await res.json()) as { data: { token: string } }).data.token;
    await kill();
  });
  afterAll(async () => {
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['while the file arrives', 0.5],
    ['just after its last byte', 1],
  ])('leaves a consistent store when killed %s', async (_when, fraction) => {
    const base = await start();
    const size = 12 * 1024 * 1024;
    await slowUpload(base, token, size, (sent) => {
      if (sent >= size * fraction) void kill();
    });
    await kill();

    for (const file of blobFiles()) {
      expect(createHash('sha256').update(readFileSync(file)).digest('hex'), file).toBe(
        path.basename(file),
      );
    }
    const verify = await runAxon(['content', 'verify'], { env });
    expect(verify.stdout).toMatch(/all valid/);
    expect(verify.code).toBe(0);

    // The restarted server accepts and serves uploads again.
    const again = await start();
    const form = new FormData();
    const bytes = randomBytes(700_000);
    form.append('file', new Blob([bytes]), 'after.bin');
    const up = await fetch(`${again}/api/content/upload/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(up.status).toBe(201);
    const hash = ((await up.json()) as { data: { content_hash: string } }).data.content_hash;
    const down = await fetch(`${again}/api/content/stream/${hash}/`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Buffer.from(await down.arrayBuffer()).equals(bytes)).toBe(true);
    await kill();
  });

  it('names a corrupted blob in axon content verify and exits 1', async () => {
    const [victim] = blobFiles();
    expect(victim).toBeDefined();
    const original = readFileSync(victim!);
    const damaged = Buffer.from(original);
    damaged[50] = damaged[50]! ^ 1;
    writeFileSync(victim!, damaged);
    try {
      const verify = await runAxon(['content', 'verify'], { env });
      expect(verify.code).toBe(1);
      expect(verify.stdout).toContain(`CORRUPT  ${path.basename(victim!)}`);
    } finally {
      writeFileSync(victim!, original);
    }
  });
});
