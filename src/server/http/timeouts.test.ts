// Slow clients over real HTTP: headers or a body sent too slowly are cut off while other clients
// are served, and an upload gets its own, longer limit.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, startTestApp, type TestApp } from '../../test-support/app.js';

describe('client timeouts', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp('sqlite', {
      AXON_HEADERS_TIMEOUT_MS: '300',
      AXON_BODY_TIMEOUT_MS: '300',
      AXON_UPLOAD_TIMEOUT_MS: '600000',
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => t.close());

  /** A raw connection that sends `head` and then stays silent; `closed` settles when the server hangs up. */
  async function slowClient(
    head: string,
  ): Promise<{ socket: net.Socket; closed: Promise<string> }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
    });
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
    socket.on('error', () => undefined);
    socket.write(head);
    return { socket, closed };
  }

  const health = async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).status;

  it('cuts off a client that sends its headers too slowly, and serves another meanwhile', async () => {
    const slow = await slowClient('GET /api/health HTTP/1.1\r\nHost: axon\r\n');
    expect(await health()).toBe(200);
    const answer = await slow.closed;
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('cuts off a slow body on an ordinary route, but gives an upload its longer limit', async () => {
    const user = await registerUser(t.app, 'uploader');
    const part =
      '--edge\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n' +
      'Content-Type: text/plain\r\n\r\nhello';
    const end = '\r\n--edge--\r\n';
    const upload = await slowClient(
      'POST /api/content/upload/ HTTP/1.1\r\nHost: axon\r\nConnection: close\r\n' +
        `Authorization: Bearer ${user.token}\r\n` +
        'Content-Type: multipart/form-data; boundary=edge\r\n' +
        `Content-Length: ${Buffer.byteLength(part + end)}\r\n\r\n${part}`,
    );
    const login = await slowClient(
      'POST /api/auth/login/ HTTP/1.1\r\nHost: axon\r\nContent-Type: application/json\r\n' +
        'Content-Length: 200\r\n\r\n{"username":',
    );
    expect(await health()).toBe(200);
    expect(await login.closed).toBe('');
    // The login's body limit has passed; the upload, started before it, is still open and ends well.
    expect(upload.socket.destroyed).toBe(false);
    upload.socket.write(end);
    expect(await upload.closed).toMatch(/^HTTP\/1\.1 201 /);
  });
});
