// buildApp: the Fastify instance with every module registered. Tests build it directly and talk
// to it through `inject`; main.ts builds it and listens.
import { answerClientError } from './http/client-errors.js';
import { randomUUID } from 'node:crypto';
import helmet from 'helmet';
import { liteRoutes } from './modules/lite/routes.js';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyServerOptions,
  type RouteOptions,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppContext } from './context.js';
import { authenticateLargeBodies } from './http/auth.js';
import { registerErrorHandling, sendError } from './http/error-handler.js';
import { webClientRoutes } from './http/web-client.js';
import { observabilityRoutes } from './http/observability.js';
import { registerOpenApi } from './http/openapi.js';
import { accountRoutes } from './modules/accounts/routes.js';
import { adminRoutes } from './modules/admin/routes.js';
import { agentRoutes } from './modules/admin/agent-routes.js';
import { boardRoutes } from './modules/boards/routes.js';
import { editRoutes } from './modules/boards/edit-routes.js';
import { readPositionRoutes } from './modules/boards/read-routes.js';
import { limitBodyTime, serverTimeoutOptions } from './http/timeouts.js';
import { appletRoutes } from './modules/applets/routes.js';
import { chatRoutes } from './modules/chat/routes.js';
import { contentRoutes } from './modules/content/routes.js';
import { peopleRoutes } from './modules/people/routes.js';
import { privateMessageRoutes } from './modules/private-messages/routes.js';
import { notificationRoutes } from './modules/notifications/routes.js';
import { federationRoutes } from './modules/federation/routes.js';
import { moderationRoutes } from './modules/moderation/routes.js';

export const JSON_BODY_LIMIT = 1024 * 1024;

export interface BuildOptions {
  /** A pino logger config or instance; tests pass a capturing stream. Defaults to the config level. */
  logger?: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance'];
  /** Told of every route as it is registered: the security suite builds its route table from it. */
  onRoute?: (route: RouteOptions) => void;
}

/** What a request log line may hold: never an IP address, a query string or a header. */
export const requestSerializers = {
  req: (req: { method?: string; url?: string; id?: string }) => ({
    id: req.id,
    method: req.method,
    path: req.url?.split('?')[0],
  }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
};

export async function buildApp(
  ctx: AppContext,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const logger =
    options.logger !== undefined && typeof options.logger === 'object' && 'info' in options.logger
      ? { loggerInstance: options.logger as FastifyServerOptions['loggerInstance'] }
      : {
          logger: (options.logger as FastifyServerOptions['logger']) ?? {
            level: ctx.config.logLevel,
            serializers: requestSerializers,
          },
        };
  const app = Fastify({
    ...logger,
    bodyLimit: JSON_BODY_LIMIT,
    ...serverTimeoutOptions(ctx.config.timeouts),
    genReqId: () => randomUUID(),
    // observability.ts logs one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    ajv: undefined,
    // A path the router cannot take apart (a segment over 100 characters, bad percent-encoding)
    // is refused in the envelope like any other bad request.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) =>
      sendError(reply, 400, {
        code: 'BAD_REQUEST',
        message:
          error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? 'a part of the path is longer than 100 characters'
            : 'the path is malformed',
        details: null,
      }),
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body most routes take; text/plain would otherwise slip through as a string.
  app.removeContentTypeParser('text/plain');
  // Synchronous (a callback, not async): an answer sent from outside its handler's promise chain,
  // like a long poll answered inside an event's publish, then reaches the socket at once.
  // Answers that do not say how to cache them are not stored anywhere: only routes serving public
  // content (the web client's files, avatars, public attachments) opt in to caching.
  // Once the server closes, every answer ends its connection: Node closes the connections idle at
  // close() only, and one whose request was still running (a peer's inbox batch, say) would stay
  // open after its answer until the keep-alive timeout, holding the process's exit that long.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('X-Request-Id', request.id);
    if (!reply.hasHeader('Cache-Control')) void reply.header('Cache-Control', 'no-store');
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  const errorHandling = registerErrorHandling(app);
  limitBodyTime(app, ctx.config.timeouts);
  authenticateLargeBodies(ctx, app);
  // Helmet's middleware is built once here; @fastify/helmet rebuilt it (parsing the CSP) per request.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
    hsts: false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  await registerOpenApi(app);

  const clientPage = await webClientRoutes(app, ctx);
  if (clientPage !== undefined) errorHandling.answerUnknownPagesWith(clientPage);
  await observabilityRoutes(app, ctx);
  await accountRoutes(app, ctx);
  await moderationRoutes(app, ctx);
  await adminRoutes(app, ctx);
  await agentRoutes(app, ctx);
  await boardRoutes(app, ctx);
  await editRoutes(app, ctx);
  await readPositionRoutes(app, ctx);
  await privateMessageRoutes(app, ctx);
  await notificationRoutes(app, ctx);
  await peopleRoutes(app, ctx);
  await chatRoutes(app, ctx);
  await appletRoutes(app, ctx);
  await contentRoutes(app, ctx);
  await federationRoutes(app, ctx);
  await liteRoutes(app, ctx);
  return app;
}
