// SOCKS5 servers for federation tests: a real `microsocks` process, and a recording fixture that
// notes the CONNECT target a client asks for (to prove names reach the proxy, not local DNS).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface RunningProxy {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Of microsocks' own log (stderr), the last bytes kept. */
const PROXY_LOG_LIMIT = 64 * 1024;

/** A port nobody listens on now (the system's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on the port; rejects if `exited` first. */
async function acceptsConnections(port: number, exited: () => boolean): Promise<void> {
  for (;;) {
    if (exited()) throw new Error(`the process meant to listen on ${port} ended`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
  }
}

/** `microsocks` on a free loopback port, with username/password auth when given. */
export async function startMicrosocks(auth?: {
  user: string;
  password: string;
}): Promise<RunningProxy & { connections(): string[] }> {
  const port = await freePort();
  const args = ['-i', '127.0.0.1', '-p', String(port)];
  if (auth !== undefined) args.push('-u', auth.user, '-P', auth.password);
  const child: ChildProcess = spawn('microsocks', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // microsocks logs each connection it makes: "client[4] 127.0.0.1: connected to HOST:PORT".
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-PROXY_LOG_LIMIT);
  });
  let ended = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      ended = true;
      resolve();
    }),
  );
  await acceptsConnections(port, () => ended);
  const credentials =
    auth === undefined
      ? ''
      : `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@`;
  return {
    url: `socks5h://${credentials}127.0.0.1:${port}`,
    port,
    /** The targets it connected to, in order ("HOST:PORT"), from its log. */
    connections: () => [...log.matchAll(/connected to (\S+)/g)].map((m) => m[1]!),
    stop: async () => {
      if (!ended) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ConnectRequest {
  /** 1 IPv4, 3 domain name, 4 IPv6. */
  atyp: number;
  host: string;
  port: number;
}

/**
 * A SOCKS5 server that accepts no-auth, records each CONNECT request and answers "host
 * unreachable" (as Tor does for an onion service that is not up).
 */
export async function startRecordingSocks(): Promise<
  RunningProxy & { requests: ConnectRequest[] }
> {
  const requests: ConnectRequest[] = [];
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let greeted = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        if (buffered.length < 2 || buffered.length < 2 + buffered[1]!) return;
        buffered = buffered.subarray(2 + buffered[1]!);
        greeted = true;
        socket.write(Buffer.from([0x05, 0x00]));
      }
      if (buffered.length < 5) return;
      const atyp = buffered[3]!;
      const addressLength = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffered[4]!;
      if (buffered.length < 4 + addressLength + 2) return;
      const address = buffered.subarray(4, 4 + addressLength);
      requests.push({
        atyp,
        host: atyp === 3 ? address.subarray(1).toString('ascii') : [...address].join('.'),
        port: buffered.readUInt16BE(4 + addressLength),
      });
      socket.end(Buffer.from([0x05, 0x04, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `socks5h://127.0.0.1:${port}`,
    port,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
