// Time limits on what a client sends: its headers, its body (longer on upload routes) and an idle
// kept-alive connection, so slow clients cannot hold sockets and memory while others wait.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerOptions } from 'node:http';
import type { Timeouts } from '../config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads a large body in its handler (an upload): it gets the upload time limit. */
    upload?: boolean;
  }
}

/** Node's own limits: headers, the whole request (at most the upload limit), idle keep-alive. */
export function serverTimeoutOptions(t: Timeouts): {
  http: ServerOptions;
  requestTimeout: number;
  keepAliveTimeout: number;
} {
  return {
    // Node checks these limits on a timer: check often enough that a limit holds within a quarter.
    http: {
      headersTimeout: t.headersMs,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(t.headersMs / 4))),
    },
    requestTimeout: Math.max(t.uploadMs, t.bodyMs, t.headersMs),
    keepAliveTimeout: t.idleMs,
  };
}

const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>();

function clearDeadline(request: FastifyRequest): void {
  clearTimeout(deadlines.get(request));
  deadlines.delete(request);
}

/**
 * Closes the connection of a request whose body has not arrived within its limit: Node's own
 * request timeout is one for all routes, so it is set to the longer upload limit, and this holds
 * every other route to the body limit. A route's body is read once its handler starts.
 */
export function limitBodyTime(app: FastifyInstance, t: Timeouts): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const upload = request.routeOptions.config.upload === true;
    const timer = setTimeout(() => request.raw.socket.destroy(), upload ? t.uploadMs : t.bodyMs);
    timer.unref();
    deadlines.set(request, timer);
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.routeOptions.config.upload !== true) clearDeadline(request);
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    clearDeadline(request);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    clearDeadline(request);
    done();
  });
}
