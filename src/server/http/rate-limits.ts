// Per-route rate limits for the expensive or guessable endpoints (login, registration, recovery).
// Keys are hashed: no IP address or username is kept in clear, even in memory. Behind Tor every
// client shares one address, so no limit keys on the address, and none on anything a client may
// change at will (a made-up Authorization header once gave unlimited registrations): login and
// recovery are limited per account name, registration for the whole instance.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

const digest = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22);

/** The whole instance shares one budget: for work anyone may ask for with no name to key on. */
export const INSTANCE_WIDE = () => 'instance';

export function rateLimited(
  perMinute: number,
  name: string,
  keyOf: (request: FastifyRequest) => string,
) {
  return {
    rateLimit: {
      max: perMinute,
      timeWindow: 60_000,
      hook: 'preHandler' as const,
      keyGenerator: (request: FastifyRequest) => {
        return `${name}:${digest(keyOf(request))}`;
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
