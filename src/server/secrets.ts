// The instance secret that encrypts keys at rest and signs session tokens: AXON_SECRET, or a
// random secret kept in <data dir>/secret.key (mode 0600) created on first run.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { deriveKey } from '../crypto/kdf.js';

export interface InstanceKeys {
  /** HS256 key for session tokens. */
  tokenKey: Buffer;
  /** AES key sealing the instance private key. */
  identitySealKey: Buffer;
  /** AES key sealing agents' private keys (accounts/agents.ts). */
  agentSealKey: Buffer;
}

export const SECRET_FILE = 'secret.key';

export function loadInstanceKeys(secret: string | undefined, dataDir: string): InstanceKeys {
  const master =
    secret !== undefined
      ? deriveKey(Buffer.from(secret, 'utf8'), 'axon-master-v1')
      : fileSecret(dataDir);
  return {
    tokenKey: deriveKey(master, 'axon-session-token-v1'),
    identitySealKey: deriveKey(master, 'axon-instance-identity-v1'),
    agentSealKey: deriveKey(master, 'axon-agent-keys-v1'),
  };
}

function fileSecret(dataDir: string): Buffer {
  const file = path.join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users; run: chmod 600 ${file}`);
  }
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (secret.length !== 32)
    throw new Error(`${file} is not a valid secret (expected 32 base64 bytes)`);
  return secret;
}
