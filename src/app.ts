// Builds the Fastify instance from plugins and domain routes. No listen here.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import accountRoutes from './account/routes.js';
import activationRoutes from './activation/routes.js';
import adminRoutes from './admin/routes.js';
import authRoutes from './auth/routes.js';
import eventRoutes from './events/routes.js';
import { registerErrorHandling } from './http/error-handler.js';
import healthRoutes from './http/health.js';
import { validatorCompiler } from './http/validation.js';
import offerRoutes from './offers/routes.js';
import { registerSecurity } from './plugins/security.js';
import { registerSwagger } from './plugins/swagger.js';
import type { Runtime } from './runtime.js';

const ONE_MIB = 1024 * 1024;

export async function buildApp(runtime: Runtime): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: runtime.log as FastifyBaseLogger,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: ONE_MIB,
    trustProxy: runtime.config.trustProxy,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a malformed URL, say) get the API's error shape too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ error: error.message, code: 'bad_request' });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // JSON only: other bodies get a 415 instead of reaching a route as a string.
  app.removeContentTypeParser('text/plain');
  app.decorate('config', runtime.config);
  app.decorate('db', runtime.db);
  app.decorate('redis', runtime.redis);
  app.decorate('tokens', runtime.tokens);
  app.decorate('auth', runtime.auth);
  app.decorate('activation', runtime.activation);
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
  await registerSecurity(app);
  await registerSwagger(app);

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(activationRoutes);
  await app.register(offerRoutes, { prefix: '/api/v1/offers' });
  await app.register(accountRoutes, { prefix: '/api/v1/account' });
  await app.register(adminRoutes, { prefix: '/api/v1/admin' });
  await app.register(eventRoutes);
  return app;
}
