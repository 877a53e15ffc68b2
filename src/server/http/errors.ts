// Typed application errors: a code from the catalogue (src/shared/errors.ts), an HTTP status and
// optional details. TypeScript refuses a code the catalogue does not list.
import type { z } from 'zod';
import { ERRORS, type ErrorCode } from '../../shared/errors.js';

export type { ErrorCode } from '../../shared/errors.js';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Headers the answer carries besides the envelope (Retry-After on a 503). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, details);

/** A 400 naming the one field at fault, in the same shape as schema validation errors. */
export const fieldError = (field: string, message: string, code: ErrorCode = 'VALIDATION_ERROR') =>
  new AppError(400, code, `${field}: ${message}`, { fields: [{ field, message }] });

/**
 * Validates service input with the same schema the HTTP route uses (the CLI and the pages without
 * JavaScript arrive here too); the first issue becomes a fieldError on `body.<path>`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw fieldError(['body', ...issue.path.map(String)].join('.'), issue.message);
}

/** A value as JSON text, or a 400 naming `field` when the text is over `maxBytes` (UTF-8). */
export function boundedJson(field: string, value: unknown, maxBytes: number): string {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text, 'utf8') > maxBytes)
    throw fieldError(field, `must be at most ${maxBytes} bytes of JSON`);
  return text;
}

export const unauthorized = (
  message: string = ERRORS.UNAUTHORIZED.message,
  code: ErrorCode = 'UNAUTHORIZED',
) => new AppError(401, code, message);

export const forbidden = (message: string, code: ErrorCode = 'FORBIDDEN') =>
  new AppError(403, code, message);

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);

export const conflict = (code: ErrorCode, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details);
