// /api/v1/auth: register, login, refresh, logout, logout-all, password, profile; the web app's cookie sessions under /browser.
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { forbidden } from '../domain/errors.js';
import browserRoutes from './browser-routes.js';
import { errors } from '../http/schemas.js';
import { requireUser } from './guard.js';
import { LoginBody, Message, PasswordChange, PasswordChanged, ProfilePatch, RefreshBody, RegisterBody, RegisteredUser, TokenPair, User } from './schemas.js';
import { createUser } from './service.js';

const tags = ['auth'];

const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // A per-address budget on the unauthenticated endpoints; failed logins are also counted per username.
  await app.register(rateLimit, {
    max: app.config.authRateLimitPerMinute,
    timeWindow: 60_000,
    ...(app.redis ? { redis: app.redis, nameSpace: `${app.config.redisKeyPrefix}:ratelimit:` } : {}),
    skipOnError: true,
    onExceeded: () => app.metrics.rateLimited('auth_rate_limit'),
  });

  await app.register(browserRoutes, { prefix: '/browser' });

  app.post('/register/', {
    schema: { tags, body: RegisterBody, response: { 201: RegisteredUser, ...errors(400, 403, 409, 429) } },
  }, async (request, reply) => {
    if (!app.config.registrationEnabled) throw forbidden('Registration is disabled', 'registration_disabled');
    const user = await createUser(app.db, request.body);
    return reply.code(201).send({ id: user.id, username: user.username, email: user.email });
  });

  app.post('/login/', {
    schema: { tags, body: LoginBody, response: { 200: TokenPair, ...errors(400, 401, 429) } },
  }, async (request) => app.auth.login(request.body.username, request.body.password, request.ip));

  app.post('/refresh/', {
    schema: { tags, body: RefreshBody, response: { 200: TokenPair, ...errors(400, 401, 429) } },
  }, async (request) => app.auth.refresh(request.body.refresh));

  app.post('/logout/', {
    onRequest: requireUser,
    config: { rateLimit: false },
    schema: { tags, security: [{ bearer: [] }], body: RefreshBody, response: { 200: Message, ...errors(400, 401) } },
  }, async (request) => {
    await app.auth.logout(request.user.userId, request.body.refresh);
    return { message: 'Logged out' };
  });

  app.post('/logout-all/', {
    onRequest: requireUser,
    config: { rateLimit: false },
    schema: { tags, security: [{ bearer: [] }], response: { 200: Message, ...errors(401) } },
  }, async (request) => {
    await app.auth.logoutAll(request.user);
    return { message: 'Logged out of every session' };
  });

  app.post('/password/', {
    onRequest: requireUser,
    schema: {
      tags,
      security: [{ bearer: [] }],
      description: 'Changes the caller\'s password and ends every other session of theirs; this one keeps working.',
      body: PasswordChange,
      response: { 204: PasswordChanged, ...errors(400, 401, 403, 429) },
    },
  }, async (request, reply) => {
    const { current_password, new_password } = request.body;
    await app.auth.changePassword(request.user, current_password, new_password, request.ip);
    return reply.code(204).send(null);
  });

  app.get('/profile/', {
    onRequest: requireUser,
    config: { rateLimit: false },
    schema: { tags, security: [{ bearer: [] }], response: { 200: User, ...errors(401) } },
  }, async (request) => app.auth.profile(request.user.userId));

  app.patch('/profile/', {
    onRequest: requireUser,
    config: { rateLimit: false },
    schema: { tags, security: [{ bearer: [] }], body: ProfilePatch, response: { 200: User, ...errors(400, 401) } },
  }, async (request) => app.auth.changeEmail(request.user.userId, request.body.email));
};

export default authRoutes;
