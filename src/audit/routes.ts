// GET /api/v1/admin/audit/: the audit trail, newest first. Registered inside the admin routes, whose
// guard it shares.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { findUserById } from '../auth/queries.js';
import { errors, Page } from '../http/schemas.js';
import type { AuditContext } from './domain.js';
import { AuditEntryView, AuditListQuery } from './schemas.js';
import { auditPage } from './service.js';

/** Who is acting in this request, for the use cases that write audit rows. Needs an authenticated request. */
export async function auditContextOf(request: FastifyRequest): Promise<AuditContext> {
  const user = await findUserById(request.server.db, request.user.userId);
  const actor = user?.username ?? `user:${request.user.userId}`;
  return { actor, actorId: request.user.userId, requestId: request.id, clientAddress: request.ip };
}

const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit/', {
    schema: {
      tags: ['admin'],
      security: [{ bearer: [] }],
      querystring: AuditListQuery,
      response: { 200: Page(AuditEntryView), ...errors(400, 401, 403) },
    },
  }, async (request) => {
    const { actor, action, target, since, until, limit, cursor } = request.query;
    const filter = {
      actor,
      action,
      target,
      since: since === undefined ? undefined : new Date(since),
      until: until === undefined ? undefined : new Date(until),
    };
    return auditPage(app.db, filter, { limit, cursor });
  });
};

export default auditRoutes;
