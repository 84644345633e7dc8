// /api/v1/admin/webhooks/: endpoints, their secrets, deliveries and redelivery. Admins only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { auditContextOf } from '../audit/routes.js';
import { requireAdmin } from '../auth/guard.js';
import { errors, Page } from '../http/schemas.js';
import {
  DeliveryListQuery,
  DeliveryParams,
  DeliveryView,
  EndpointListQuery,
  EndpointParams,
  EndpointPatchBody,
  EndpointView,
  EndpointWithSecret,
  NewEndpointBody,
} from './schemas.js';
import {
  changeEndpoint,
  createEndpoint,
  deliveryPage,
  endpointPage,
  getEndpoint,
  redeliver,
  removeEndpoint,
  rotateEndpointSecret,
  type WebhookContext,
} from './service.js';

const schemaDefaults = { tags: ['admin'], security: [{ bearer: [] }] };
const guarded = errors(401, 403);

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireAdmin);
  const ctx: WebhookContext = { db: app.db, clock: app.clock, allowPrivate: app.config.webhooks.allowPrivate };

  app.post('/webhooks/', {
    schema: { ...schemaDefaults, body: NewEndpointBody, response: { 201: EndpointWithSecret, ...guarded, ...errors(400) } },
  }, async (request, reply) => reply.code(201).send(await createEndpoint(ctx, await auditContextOf(request), request.body)));

  app.get('/webhooks/', {
    schema: { ...schemaDefaults, querystring: EndpointListQuery, response: { 200: Page(EndpointView), ...guarded, ...errors(400) } },
  }, async (request) => endpointPage(app.db, request.query));

  app.get('/webhooks/:id/', {
    schema: { ...schemaDefaults, params: EndpointParams, response: { 200: EndpointView, ...guarded, ...errors(400, 404) } },
  }, async (request) => getEndpoint(app.db, request.params.id));

  app.patch('/webhooks/:id/', {
    schema: { ...schemaDefaults, params: EndpointParams, body: EndpointPatchBody, response: { 200: EndpointView, ...guarded, ...errors(400, 404) } },
  }, async (request) => changeEndpoint(ctx, await auditContextOf(request), request.params.id, request.body));

  app.delete('/webhooks/:id/', {
    schema: { ...schemaDefaults, params: EndpointParams, response: { 204: Type.Null({ description: 'Deleted, with its deliveries and their attempt log' }), ...guarded, ...errors(400, 404) } },
  }, async (request, reply) => {
    await removeEndpoint(ctx, await auditContextOf(request), request.params.id);
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:id/rotate-secret/', {
    schema: { ...schemaDefaults, params: EndpointParams, response: { 200: EndpointWithSecret, ...guarded, ...errors(400, 404) } },
  }, async (request) => rotateEndpointSecret(ctx, await auditContextOf(request), request.params.id));

  app.get('/webhooks/:id/deliveries/', {
    schema: {
      ...schemaDefaults,
      params: EndpointParams,
      querystring: DeliveryListQuery,
      response: { 200: Page(DeliveryView), ...guarded, ...errors(400, 404) },
    },
  }, async (request) => deliveryPage(app.db, request.params.id, request.query));

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver/', {
    schema: { ...schemaDefaults, params: DeliveryParams, response: { 202: DeliveryView, ...guarded, ...errors(400, 404, 409) } },
  }, async (request, reply) => reply.code(202).send(await redeliver(ctx, await auditContextOf(request), request.params.id, request.params.deliveryId)));
};

export default webhookRoutes;
