// /api/v1/account: balance, active offers, subscriptions (and their auto-renewal) and transaction history of the caller.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUser } from '../auth/guard.js';
import { errors, Page, sendJsonText } from '../http/schemas.js';
import {
  AccountView,
  Balance,
  SubscriptionListQuery,
  SubscriptionParams,
  SubscriptionPatch,
  SubscriptionView,
  TransactionListQuery,
  TransactionParams,
  TransactionView,
} from './schemas.js';
import { accountOverview, balance, setAutoRenew, subscriptionPage, transactionPage, userTransaction } from './service.js';

const schemaDefaults = { tags: ['account'], security: [{ bearer: [] }] };

const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireUser);

  app.get('/', {
    prefixTrailingSlash: 'slash',
    schema: { ...schemaDefaults, response: { 200: AccountView, ...errors(401) } },
  }, async (request) => accountOverview(app.db, request.user.userId, app.config.currency));

  app.get('/balance/', {
    schema: { ...schemaDefaults, response: { 200: Balance, ...errors(401) } },
  }, async (request) => balance(app.db, request.user.userId, app.config.currency));

  app.get('/subscriptions/', {
    schema: { ...schemaDefaults, querystring: SubscriptionListQuery, response: { 200: Page(SubscriptionView), ...errors(400, 401) } },
  }, async (request) => {
    const { status, ...page } = request.query;
    return subscriptionPage(app.db, request.user.userId, page, { status });
  });

  app.patch('/subscriptions/:id/', {
    schema: {
      ...schemaDefaults,
      params: SubscriptionParams,
      body: SubscriptionPatch,
      response: { 200: SubscriptionView, ...errors(400, 401, 404) },
    },
  }, async (request) => setAutoRenew(app.db, request.user.userId, request.params.id, request.body.auto_renew));

  app.get('/transactions/', {
    schema: { ...schemaDefaults, querystring: TransactionListQuery, response: { 200: Page(TransactionView), ...errors(400, 401) } },
  }, async (request, reply) => {
    const { status, type, limit, cursor } = request.query;
    return sendJsonText(reply, await transactionPage(app.db, { userId: request.user.userId, status, type }, { limit, cursor }));
  });

  app.get('/transactions/:transaction_id/', {
    schema: { ...schemaDefaults, params: TransactionParams, response: { 200: TransactionView, ...errors(401, 404) } },
  }, async (request) => userTransaction(app.db, request.user.userId, request.params.transaction_id));
};

export default accountRoutes;
