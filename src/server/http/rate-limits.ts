// Per-route rate limits for the expensive or guessable endpoints (login, registration, recovery).
// Keys are hashed: no IP address or username is kept in clear, even in memory. Behind Tor every
// client shares one address, so login is limited per account name, not per address.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

const digest = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);

export function rateLimited(
  perMinute: number,
  name: string,
  keyFromBody?: (body: unknown) => string,
) {
  return {
    rateLimit: {
      max: perMinute,
      timeWindow: 60_000,
      hook: 'preHandler' as const,
      keyGenerator: (request: FastifyRequest) => {
        const subject = keyFromBody?.(request.body) ?? request.headers.authorization ?? request.ip;
        return `${name}:${digest(subject)}`;
      },
      errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
        new AppError(
          429,
          'RATE_LIMITED',
          `too many ${name} attempts; try again in ${context.after}`,
        ),
    },
  };
}
