// Requests Node's HTTP parser refuses before routing still get the error envelope.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, startTestApp, type TestApp } from '../../test-support/app.js';

/** Sends raw bytes and returns everything the server answers before it closes. */
function rawExchange(base: string, request: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function envelopeOf(answer: string): { success: boolean; error: { code: string } } {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as never;
}

describe('requests refused by the HTTP parser', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    base = await listen(t);
  });
  afterAll(() => t.close());

  it('answers a request line over the header limit with 431 in the envelope', async () => {
    const answer = await rawExchange(
      base,
      `GET /api/boards/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(answer.startsWith('HTTP/1.1 431 ')).toBe(true);
    expect(envelopeOf(answer)).toMatchObject({
      success: false,
      error: { code: 'HEADERS_TOO_LARGE' },
    });
  });

  it('answers bytes that are not HTTP with 400 in the envelope', async () => {
    const answer = await rawExchange(base, 'HELLO THERE\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(envelopeOf(answer)).toMatchObject({ success: false, error: { code: 'BAD_REQUEST' } });
  });
});
