// The OpenAPI document, generated from the routes' zod schemas: GET /api/docs (in the envelope,
// like every /api answer) and GET /openapi.json (bare, for tools).
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { ERRORS } from '../../shared/errors.js';
import { ok } from './envelope.js';

// Each error code's HTTP status, default message and when it is answered (an OpenAPI extension:
// the document has no standard place for a list of error codes).
const errorCatalogue = { 'x-error-codes': ERRORS };

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Axon BBS API',
        version: '1',
        description: 'Every /api response is the envelope {success, data, error, timestamp}.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
      ...errorCatalogue,
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.get('/api/docs', { schema: { hide: true } }, async () => ok(app.swagger()));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
