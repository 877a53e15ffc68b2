// The envelope every /api response travels in (DESIGN.md §4), and its zod form for OpenAPI.
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown> | null;
}

export interface Envelope<T> {
  success: boolean;
  data: T | null;
  error: ErrorBody | null;
  timestamp: string;
}

export interface Success<T> {
  success: true;
  data: T;
  error: null;
  timestamp: string;
}

export function ok<T>(data: T): Success<T> {
  return { success: true, data, error: null, timestamp: new Date().toISOString() };
}

export function failure(error: ErrorBody): Envelope<never> {
  return { success: false, data: null, error, timestamp: new Date().toISOString() };
}

/** The success envelope around a route's data schema: used as the route's response schema. */
export function envelopeOf<T extends z.ZodType>(data: T) {
  return z.object({
    success: z.literal(true),
    data,
    error: z.null(),
    timestamp: z.string(),
  });
}

export const errorEnvelope = z
  .object({
    success: z.literal(false),
    data: z.null(),
    error: z.object({
      code: z.enum(ERROR_CODES).meta({
        id: 'ErrorCode',
        description: 'the catalogue of codes: x-error-codes, docs/api.md',
      }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).nullable(),
    }),
    timestamp: z.string(),
  })
  .meta({ id: 'ErrorEnvelope' });
