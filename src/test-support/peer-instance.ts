// A real second Axon instance for peer-registry tests: `axon start` on loopback with its own data
// directory (SQLite), optionally on a fixed port so another instance can take its place there.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAxon, type ChildServer } from './axon-process.js';

export interface PeerInstance {
  server: ChildServer;
  url: string;
  fingerprint: string;
  nickname: string;
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

/** A port nobody listens on now, for an instance that must come back at the same address. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startPeerInstance(port?: number): Promise<PeerInstance> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'axon-peer-'));
  const server = await startAxon({
    env: { AXON_DATA_DIR: dataDir, ...(port === undefined ? {} : { PORT: String(port) }) },
  });
  const response = await fetch(`${server.url}/api/federation/identity/`);
  const { data } = (await response.json()) as { data: { fingerprint: string; nickname: string } };
  return {
    server,
    url: server.url,
    fingerprint: data.fingerprint,
    nickname: data.nickname,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
