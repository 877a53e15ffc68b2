// Requests Node's HTTP parser refuses before Fastify sees them (headers over the size limit, a
// request line that is not HTTP, headers too slow) still get the API's error envelope, so a client
// learns what went wrong the same way whatever layer caught it.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { ErrorCode } from '../../shared/errors.js';
import { failure } from './envelope.js';

interface ParserError extends Error {
  code?: string;
}

function refusal(error: ParserError): { status: number; code: ErrorCode; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        message: 'the request line and headers are larger than the server accepts (16 KiB)',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'REQUEST_TIMEOUT',
        message: 'the request did not arrive in time',
      };
    default:
      return { status: 400, code: 'BAD_REQUEST', message: 'the request is not well-formed HTTP' };
  }
}

/** Fastify's clientErrorHandler: answers in the envelope, then closes the connection. */
export function answerClientError(error: ParserError, socket: Socket): void {
  // A connection the client dropped, or one already answered, has nobody left to tell.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, code, message } = refusal(error);
  const body = JSON.stringify(failure({ code, message, details: null }));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
