// /api/v1/offers: the catalogue of active offers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../auth/guard.js';
import { errors, IdParams, Page } from '../http/schemas.js';
import { Offer, OfferListQuery } from './schemas.js';
import { getOffer, offerPage } from './service.js';

const schemaDefaults = { tags: ['offers'], security: [{ bearer: [] }] };

const offerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireUser);

  app.get('/', {
    prefixTrailingSlash: 'slash',
    schema: { ...schemaDefaults, querystring: OfferListQuery, response: { 200: Page(Offer), ...errors(400, 401) } },
  }, async (request) => offerPage(app.db, request.query, true));

  app.get('/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: Offer, ...errors(400, 401, 404) } },
  }, async (request) => getOffer(app.db, request.params.id, true));
};

export default offerRoutes;
