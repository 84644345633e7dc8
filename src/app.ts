// Builds the Fastify instance from plugins and domain routes. No listen here.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import accountRoutes from './account/routes.js';
import activationRoutes from './activation/routes.js';
import adminRoutes from './admin/routes.js';
import { limitPasswordHashQueue } from './auth/passwords.js';
import authRoutes from './auth/routes.js';
import type { TrustProxy } from './config.js';
import eventRoutes from './events/routes.js';
import { clientErrorHandler } from './http/client-errors.js';
import { registerErrorHandling } from './http/error-handler.js';
import healthRoutes from './http/health.js';
import { validatorCompiler } from './http/validation.js';
import { registerMetrics } from './metrics/http.js';
import notificationRoutes from './notifications/routes.js';
import offerRoutes from './offers/routes.js';
import { registerLoadShedding } from './plugins/load-shedding.js';
import { registerSecurity } from './plugins/security.js';
import { registerSwagger } from './plugins/swagger.js';
import { registerWebApp } from './plugins/web-app.js';
import type { Runtime } from './runtime.js';
import streamRoutes from './stream/routes.js';
import webhookRoutes from './webhooks/routes.js';

const ONE_MIB = 1024 * 1024;

// A client's X-Request-Id ends up in every log line of its request: only a short, plain one is kept.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Errors Fastify raises before a route is found; their own messages quote the raw URL back. */
const ROUTING_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_BAD_URL: { status: 400, code: 'bad_request', message: 'The URL could not be decoded' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', message: 'A path segment is too long' },
};

/** A hop count becomes "trust the nearest n addresses", which Fastify's types do not spell. */
const trustedProxies = (trust: TrustProxy): FastifyServerOptions['trustProxy'] =>
  typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;

export async function buildApp(runtime: Runtime): Promise<FastifyInstance> {
  const limits = runtime.config.http;
  const app = Fastify({
    loggerInstance: runtime.log as FastifyBaseLogger,
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && ACCEPTABLE_REQUEST_ID.test(sent) ? sent : randomUUID();
    },
    bodyLimit: ONE_MIB,
    trustProxy: trustedProxies(runtime.config.trustProxy),
    return503OnClosing: true,
    // Node's defaults let a client that sends its headers a byte at a time hold a socket for minutes.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Node looks for expired requests every 30 s by default, which would stretch every timeout by as much.
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) },
    clientErrorHandler,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a malformed URL, say) get the API's error shape too.
    frameworkErrors: (error, request, reply) => {
      const known = ROUTING_ERRORS[error.code];
      if (!known) request.log.error({ err: error }, 'routing failed');
      const { status, code, message } = known ?? { status: 500, code: 'internal_error', message: 'Internal server error' };
      void (reply as FastifyReply).code(status).send({ error: message, code });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = limits.maxConnections;
  limitPasswordHashQueue(limits.passwordHashQueueMax);
  if (runtime.config.trustProxy === true) {
    app.log.warn('TRUST_PROXY=true believes X-Forwarded-For from any client; set the hop count or the proxies\' addresses instead');
  }

  app.setValidatorCompiler(validatorCompiler);
  // JSON only: other bodies get a 415 instead of reaching a route as a string.
  app.removeContentTypeParser('text/plain');
  app.decorate('config', runtime.config);
  app.decorate('db', runtime.db);
  app.decorate('redis', runtime.redis);
  app.decorate('tokens', runtime.tokens);
  app.decorate('auth', runtime.auth);
  app.decorate('activation', runtime.activation);
  app.decorate('commits', runtime.commits);
  app.decorate('clock', runtime.clock);
  app.decorate('metrics', runtime.metrics);
  app.decorateRequest('user', null as never);
  // A request still running when close() begins ends its connection with its answer: otherwise a
  // client that keeps connections alive (any proxy) holds close(), and so the shutdown, until timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Balances, tokens and histories must not linger in shared or browser caches (Swagger UI's
    // static files set their own).
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  registerErrorHandling(app);
  if (runtime.metricsRegistry) registerMetrics(app, runtime.metricsRegistry, runtime.config.metrics.token);
  await registerSecurity(app);
  await registerLoadShedding(app);
  await registerSwagger(app);

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(activationRoutes);
  await app.register(offerRoutes, { prefix: '/api/v1/offers' });
  await app.register(accountRoutes, { prefix: '/api/v1/account' });
  await app.register(adminRoutes, { prefix: '/api/v1/admin' });
  await app.register(webhookRoutes, { prefix: '/api/v1/admin' });
  await app.register(eventRoutes);
  await app.register(streamRoutes);
  await app.register(notificationRoutes);
  await registerWebApp(app);
  return app;
}
