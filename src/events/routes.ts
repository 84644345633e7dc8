// GET /api/v1/account/events/ (the caller's own) and GET /api/v1/admin/events/ (everyone's).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAdmin, requireUser } from '../auth/guard.js';
import { errors, Page } from '../http/schemas.js';
import { AdminEventListQuery, EventListQuery, EventView } from './schemas.js';
import { eventPage } from './service.js';

const security = [{ bearer: [] }];

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/v1/account/events/', {
    onRequest: requireUser,
    schema: { tags: ['account'], security, querystring: EventListQuery, response: { 200: Page(EventView), ...errors(400, 401) } },
  }, async (request) => {
    const { type, limit, cursor } = request.query;
    return eventPage(app.db, { userId: request.user.userId, type }, { limit, cursor });
  });

  app.get('/api/v1/admin/events/', {
    onRequest: requireAdmin,
    schema: { tags: ['admin'], security, querystring: AdminEventListQuery, response: { 200: Page(EventView), ...errors(400, 401, 403) } },
  }, async (request) => {
    const { type, user, limit, cursor } = request.query;
    return eventPage(app.db, { userId: user, type }, { limit, cursor });
  });
};

export default eventRoutes;
