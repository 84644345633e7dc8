// /api/v1/offers: the catalogue of active offers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../auth/guard.js';
import { errors, IdParams, Page } from '../http/schemas.js';
import { Offer, OfferListQuery } from './schemas.js';
import { getOffer, offerPage } from './service.js';

const serialised = new WeakMap<object, string>();

const schemaDefaults = { tags: ['offers'], security: [{ bearer: [] }] };

const offerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireUser);

  app.get('/', {
    prefixTrailingSlash: 'slash',
    schema: { ...schemaDefaults, querystring: OfferListQuery, response: { 200: Page(Offer), ...errors(400, 401) } },
  }, async (request, reply) => {
    const page = await offerPage(app.db, request.query, true);
    // A cached page is the same object until it expires or an admin change drops it, so its JSON
    // is written once through the route's response schema and reused.
    let json = serialised.get(page);
    if (json === undefined) {
      json = reply.serialize(page) as string;
      serialised.set(page, json);
    }
    // Fastify sends a string with a JSON content type as it is, without serialising it again.
    return reply.type('application/json; charset=utf-8').send(json as unknown as typeof page);
  });

  app.get('/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: Offer, ...errors(400, 401, 404) } },
  }, async (request) => getOffer(app.db, request.params.id, true));
};

export default offerRoutes;
