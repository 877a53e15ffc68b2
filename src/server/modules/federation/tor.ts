// This instance as a Tor onion service: the torrc lines `axon tor init` writes, and the status
// `axon tor status` and /api/health report (the onion address, whether Tor's SOCKS port answers).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../../config.js';

export const DEFAULT_SOCKS = '127.0.0.1:9050';
const PROBE_TIMEOUT_MS = 3_000;

export interface TorStatus {
  /** From the hidden-service folder's `hostname` file; null before Tor has written it or without AXON_TOR_DIR. */
  onion_address: string | null;
  /** Whether the SOCKS port answered a SOCKS5 greeting; null without AXON_TOR_SOCKS. */
  socks_ok: boolean | null;
}

export interface TorPlan {
  /** The HiddenServiceDir (mode 0700). */
  dir: string;
  /** The torrc written beside it. */
  torrc: string;
  socks: string;
}

/** The hidden-service folder used when neither --dir nor AXON_TOR_DIR says. */
export function defaultTorDir(config: Config): string {
  return config.tor.dir ?? path.join(config.dataDir, 'tor', 'hidden_service');
}

/** The torrc for this instance: its own DataDirectory, the onion service on port 80, the SOCKS port. */
export function torrcText(plan: Omit<TorPlan, 'torrc'>, config: Config): string {
  const listenHost = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const target = listenHost.includes(':')
    ? `[${listenHost}]:${config.port}`
    : `${listenHost}:${config.port}`;
  return [
    '# Written by `axon tor init`. Start Tor with: tor -f <this file>',
    `DataDirectory ${path.join(path.dirname(plan.dir), 'data')}`,
    `HiddenServiceDir ${plan.dir}`,
    `HiddenServicePort 80 ${target}`,
    `SocksPort ${plan.socks}`,
    '',
  ].join('\n');
}

/** Creates the hidden-service and data folders (mode 0700) and writes the torrc beside them. */
export function writeTorConfig(dir: string, socks: string, config: Config): TorPlan {
  const absolute = path.resolve(dir);
  const plan = { dir: absolute, socks, torrc: path.join(path.dirname(absolute), 'torrc') };
  for (const folder of [absolute, path.join(path.dirname(absolute), 'data')]) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask, and an existing folder keeps its own: Tor refuses any
    // HiddenServiceDir others may read.
    chmodSync(folder, 0o700);
  }
  writeFileSync(plan.torrc, torrcText(plan, config), { mode: 0o600 });
  return plan;
}

export function onionAddress(dir: string | undefined): string | null {
  if (dir === undefined) return null;
  try {
    const name = readFileSync(path.join(dir, 'hostname'), 'utf8').trim();
    return /^[a-z2-7]{56}\.onion$/.test(name) ? name : null;
  } catch {
    return null;
  }
}

/** True when host:port answers a SOCKS5 greeting (no authentication offered) as a SOCKS5 server. */
export function socksAnswers(address: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const split = address.lastIndexOf(':');
  const host = address.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(split + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write(Buffer.from([0x05, 0x01, 0x00])));
    socket.once('data', (reply: Buffer) => done(reply[0] === 0x05 && reply[1] === 0x00));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export async function torStatus(config: Config): Promise<TorStatus> {
  return {
    onion_address: onionAddress(config.tor.dir),
    socks_ok: config.tor.socks === undefined ? null : await socksAnswers(config.tor.socks),
  };
}
