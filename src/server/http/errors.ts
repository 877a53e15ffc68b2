// Typed application errors: a stable UPPER_SNAKE code, an HTTP status and optional details.
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(400, code, message, details);

/** A 400 naming the one field at fault, in the same shape as schema validation errors. */
export const fieldError = (field: string, message: string, code = 'VALIDATION_ERROR') =>
  new AppError(400, code, `${field}: ${message}`, { fields: [{ field, message }] });

export const unauthorized = (message = 'authentication required', code = 'UNAUTHORIZED') =>
  new AppError(401, code, message);

export const forbidden = (message: string, code = 'FORBIDDEN') => new AppError(403, code, message);

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);

export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(409, code, message, details);
