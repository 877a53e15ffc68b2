// A SOCKS5 client (RFC 1928, with RFC 1929 username/password) as an undici connector. The target is
// sent as a domain name (ATYP 3), so the proxy resolves it: `.onion` names never reach local DNS.
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';

export interface SocksProxy {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

export class SocksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SocksError';
  }
}

/** Parses socks5:// or socks5h:// URLs; both resolve names at the proxy. */
export function parseSocksUrl(url: string): SocksProxy {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SocksError(`${url} is not a URL`);
  }
  if (parsed.protocol !== 'socks5:' && parsed.protocol !== 'socks5h:') {
    throw new SocksError(`${url} is not a socks5:// or socks5h:// URL`);
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 1080 : Number(parsed.port),
    ...(parsed.username !== ''
      ? {
          username: decodeURIComponent(parsed.username),
          password: decodeURIComponent(parsed.password),
        }
      : {}),
  };
}

const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Reads exactly the bytes asked for from a socket that is mid-handshake. */
class HandshakeReader {
  private buffered = Buffer.alloc(0);
  private waiting:
    { size: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('error', this.onEnd);
    socket.on('close', this.onEnd);
  }

  read(size: number): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { size, resolve, reject };
      this.drain();
    });
  }

  /** Stops listening and hands back anything read past the handshake. */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onEnd);
    this.socket.off('close', this.onEnd);
    if (this.buffered.length > 0) this.socket.unshift(this.buffered);
  }

  private onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.drain();
  };

  private onEnd = (error?: Error | boolean) => {
    this.failure =
      error instanceof Error
        ? new SocksError(`the SOCKS5 proxy connection failed: ${error.message}`)
        : new SocksError('the SOCKS5 proxy closed the connection during the handshake');
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
  };

  private drain(): void {
    if (this.waiting === undefined || this.buffered.length < this.waiting.size) return;
    const { size, resolve } = this.waiting;
    this.waiting = undefined;
    const bytes = this.buffered.subarray(0, size);
    this.buffered = this.buffered.subarray(size);
    resolve(bytes);
  }
}

/** Opens a tunnel to host:port through the proxy; resolves with the connected socket. */
export async function socksConnect(
  proxy: SocksProxy,
  target: { host: string; port: number },
  timeoutMs: number,
): Promise<net.Socket> {
  const socket = net.connect({ host: proxy.host, port: proxy.port });
  const timer = setTimeout(
    () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const reader = new HandshakeReader(socket);
  try {
    await handshake(socket, reader, proxy, target);
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    reader.detach();
  }
}

async function handshake(
  socket: net.Socket,
  reader: HandshakeReader,
  proxy: SocksProxy,
  target: { host: string; port: number },
): Promise<void> {
  const methods = proxy.username === undefined ? [0x00] : [0x00, 0x02];
  socket.write(Buffer.from([0x05, methods.length, ...methods]));
  const [version, method] = await reader.read(2);
  if (version !== 0x05) throw new SocksError('the proxy does not speak SOCKS5');
  if (method === 0x02 && proxy.username !== undefined) {
    const user = Buffer.from(proxy.username, 'utf8');
    const password = Buffer.from(proxy.password ?? '', 'utf8');
    if (user.length > 255 || password.length > 255) {
      throw new SocksError('the SOCKS5 username and password are limited to 255 bytes each');
    }
    socket.write(
      Buffer.concat([
        Buffer.from([0x01, user.length]),
        user,
        Buffer.from([password.length]),
        password,
      ]),
    );
    const [, status] = await reader.read(2);
    if (status !== 0x00) throw new SocksError('the SOCKS5 proxy refused the username and password');
  } else if (method !== 0x00) {
    throw new SocksError('the SOCKS5 proxy accepts none of the offered authentication methods');
  }

  socket.write(
    Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address(target.host), port(target.port)]),
  );
  const [, reply, , atyp] = await reader.read(4);
  if (reply !== 0x00) {
    throw new SocksError(
      `the SOCKS5 proxy could not connect: ${REPLIES[reply!] ?? `reply ${reply}`}`,
    );
  }
  // The bound address the proxy reports, then its port: read and dropped.
  if (atyp === 0x01) await reader.read(4 + 2);
  else if (atyp === 0x04) await reader.read(16 + 2);
  else if (atyp === 0x03) await reader.read((await reader.read(1))[0]! + 2);
  else throw new SocksError('the SOCKS5 proxy answered with an unknown address type');
}

function address(host: string): Buffer {
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIPv4(bare)) return Buffer.from([0x01, ...bare.split('.').map(Number)]);
  if (net.isIPv6(bare)) return Buffer.concat([Buffer.from([0x04]), ipv6Bytes(bare)]);
  const name = Buffer.from(bare, 'ascii');
  if (name.length === 0 || name.length > 255)
    throw new SocksError(`${host} is not a host name SOCKS5 can carry`);
  return Buffer.concat([Buffer.from([0x03, name.length]), name]);
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function port(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}

/** An undici `connect` function that tunnels through the proxy (and TLS on top for https). */
export function socksConnector(proxy: SocksProxy, timeoutMs: number): buildConnector.connector {
  return (options, callback) => {
    const target = {
      host: options.hostname,
      port: Number(options.port) || (options.protocol === 'https:' ? 443 : 80),
    };
    socksConnect(proxy, target, timeoutMs).then(
      (socket) => {
        if (options.protocol !== 'https:') return callback(null, socket);
        const secure = tls.connect({
          socket,
          servername: options.servername ?? (net.isIP(target.host) ? undefined : target.host),
          ALPNProtocols: ['http/1.1'],
        });
        secure.once('secureConnect', () => callback(null, secure));
        secure.once('error', (error) => callback(error, null));
      },
      (error: Error) => callback(error, null),
    );
  };
}
