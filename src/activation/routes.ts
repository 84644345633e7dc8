// Activation: POST /api/v1/activation/ (and the older /api/v1/offers/renew/), the status endpoint,
// and the caller's offers about to expire.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { subscriptionPage } from '../account/service.js';
import { requireUser } from '../auth/guard.js';
import { errors, Page } from '../http/schemas.js';
import { ActivationAccepted, ActivationBody, ActivationHeaders, ActivationStatus, ActiveOffer, ExpiringQuery, StatusParams } from './schemas.js';

const EXPIRING_WITHIN_DAYS = 3;

const activationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireUser);

  const activate = {
    schema: {
      tags: ['activation'],
      security: [{ bearer: [] }],
      headers: ActivationHeaders,
      body: ActivationBody,
      response: { 202: ActivationAccepted, ...errors(400, 401, 404, 409) },
    },
  };
  for (const url of ['/api/v1/activation/', '/api/v1/offers/renew/']) {
    app.post(url, activate, async (request, reply) => {
      const { body, replayed } = await app.activation.request(
        request.user.userId,
        request.body.offer_id,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(body);
    });
  }

  app.get('/api/v1/activation/status/:transaction_id/', {
    schema: { tags: ['activation'], security: [{ bearer: [] }], params: StatusParams, response: { 200: ActivationStatus, ...errors(401, 404) } },
  }, async (request) => app.activation.status(request.user.userId, request.params.transaction_id));

  app.get('/api/v1/offers/expiring/', {
    schema: { tags: ['offers'], security: [{ bearer: [] }], querystring: ExpiringQuery, response: { 200: Page(ActiveOffer), ...errors(400, 401) } },
  }, async (request) => subscriptionPage(app.db, request.user.userId, request.query, { expiringWithinDays: EXPIRING_WITHIN_DAYS }));
};

export default activationRoutes;
