// Turns every failure into the error envelope: typed AppErrors, schema validation (naming the
// field), Fastify's body errors (malformed JSON, 413, 415), unknown routes (404) and methods (405).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import {
  hasZodFastifySchemaValidationErrors,
  type ZodFastifySchemaValidationError,
} from 'fastify-type-provider-zod';
import { AppError, type ErrorCode } from './errors.js';
import { failure, type ErrorBody } from './envelope.js';

const FASTIFY_ERRORS: Record<string, { status: number; code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'the body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'the body is empty but Content-Type says JSON',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'the body is larger than this endpoint accepts',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'this endpoint does not accept that Content-Type',
  },
  FST_REQ_FILE_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'the file is larger than this instance accepts (AXON_UPLOAD_LIMIT)',
  },
  FST_FILES_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'send one file per upload' },
  FST_PARTS_LIMIT: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'send one part, named "file"',
  },
  FST_FIELDS_LIMIT: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'send one part, named "file"',
  },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'send the file as multipart/form-data',
  },
  BITSYNC_INTEGRITY: {
    status: 500,
    code: 'INTEGRITY_ERROR',
    message: 'the stored content failed its integrity check',
  },
  BITSYNC_MANIFEST_INVALID: {
    status: 400,
    code: 'VALIDATION_ERROR',
    message: 'the content description is invalid',
  },
  BITSYNC_DECLARED_HASH_MISMATCH: {
    status: 422,
    code: 'CONTENT_HASH_MISMATCH',
    message: 'the uploaded file does not hash to the declared X-Content-SHA256; nothing was kept',
  },
  BITSYNC_RANGE_NOT_SATISFIABLE: {
    status: 416,
    code: 'RANGE_NOT_SATISFIABLE',
    message: 'the range lies outside the content',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_CONTENT_LENGTH',
    message: 'Content-Length does not match the body',
  },
};

export function sendError(reply: FastifyReply, status: number, error: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(failure(error));
}

/** Sends the web client's page (it shows its own "no page here" screen for an unknown path). */
export type ClientPage = (request: FastifyRequest, reply: FastifyReply) => unknown;

/** Paths that are never the web client's, whatever the browser asks for: the API, the pages without JavaScript. */
const NOT_CLIENT_PATHS = /^\/(api|lite)(\/|$)/;

/** A person following a link (a browser navigation asks for HTML), not a program. */
const wantsPage = (request: FastifyRequest, path: string) =>
  (request.method === 'GET' || request.method === 'HEAD') &&
  !NOT_CLIENT_PATHS.test(path) &&
  String(request.headers.accept ?? '').includes('text/html');

export function registerErrorHandling(app: FastifyInstance): {
  /** From then on, a browser that asks for an unknown page gets the client's page, as a 404. */
  answerUnknownPagesWith(page: ClientPage): void;
} {
  let clientPage: ClientPage | undefined;
  // A shadow router of every route, so an unknown method on a known path answers 405, not 404.
  const routes = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      try {
        routes.on(method as HTTPMethod, route.url, () => undefined);
      } catch {
        // Already known (a route registered with and without its trailing slash).
      }
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter(
      (m) => routes.find(m, path) !== null,
    );
    if (allowed.length > 0) {
      void reply.header('Allow', allowed.join(', '));
      return sendError(reply, 405, {
        code: 'METHOD_NOT_ALLOWED',
        message: `${request.method} is not allowed here; use ${allowed.join(', ')}`,
        details: { allowed },
      });
    }
    if (clientPage !== undefined && wantsPage(request, path)) {
      void reply.code(404);
      return clientPage(request, reply);
    }
    return sendError(reply, 404, {
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${path}`,
      details: null,
    });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = describeError(error, request);
    if (status >= 500 && !(error instanceof AppError && error.code === 'SERVER_BUSY')) {
      request.log.error({ err: error }, 'request failed');
    }
    if (error instanceof AppError && error.headers !== undefined) void reply.headers(error.headers);
    return sendError(reply, status, body);
  });

  return {
    answerUnknownPagesWith(page) {
      clientPage = page;
    },
  };
}

export function describeError(
  error: FastifyError,
  request: FastifyRequest,
): { status: number; body: ErrorBody } {
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: { code: error.code, message: error.message, details: error.details ?? null },
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.map((issue) => validationField(error.validationContext, issue));
    const first = fields[0]!;
    return {
      status: 400,
      body: {
        code: 'VALIDATION_ERROR',
        message: `${first.field}: ${first.message}`,
        details: { fields },
      },
    };
  }
  const known = error.code === undefined ? undefined : FASTIFY_ERRORS[error.code];
  if (known !== undefined) {
    return {
      status: known.status,
      body: { code: known.code, message: known.message, details: null },
    };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, body: { code: 'BAD_REQUEST', message: error.message, details: null } };
  }
  return {
    status: 500,
    body: {
      code: 'INTERNAL_ERROR',
      message: 'something went wrong on the server; the request changed nothing',
      details: { request_id: request.id },
    },
  };
}

function validationField(
  context: string | undefined,
  issue: ZodFastifySchemaValidationError,
): { field: string; message: string } {
  const base = [context ?? 'body', ...issue.instancePath.split('/').filter((p) => p !== '')].join(
    '.',
  );
  const keys = (issue.params as { keys?: unknown }).keys;
  if (issue.keyword === 'unrecognized_keys' && Array.isArray(keys) && keys.length > 0) {
    return { field: `${base}.${String(keys[0])}`, message: 'is not an accepted field' };
  }
  return { field: base, message: issue.message ?? 'is invalid' };
}
