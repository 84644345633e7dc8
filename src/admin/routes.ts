// /api/v1/admin: users, balances, offers, all transactions and activations. Admins only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { creditAccount, transactionPage } from '../account/service.js';
import { TransactionView } from '../account/schemas.js';
import { requireAdmin } from '../auth/guard.js';
import { createUser, userView } from '../auth/service.js';
import { notFound } from '../domain/errors.js';
import { keysetPage } from '../http/pagination.js';
import { errors, IdempotencyHeaders, IdParams, Page } from '../http/schemas.js';
import { NewOffer, Offer, OfferListQuery, OfferPatch } from '../offers/schemas.js';
import { changeOffer, createOffer, getOffer, offerPage } from '../offers/service.js';
import * as q from './queries.js';
import {
  AdminActivation,
  AdminActivationQuery,
  AdminTransactionQuery,
  AdminUser,
  CreditBody,
  CreditResult,
  NewUserBody,
  UserListQuery,
} from './schemas.js';

const schemaDefaults = { tags: ['admin'], security: [{ bearer: [] }] };
const guarded = errors(401, 403);

const adminView = (user: q.UserWithBalance) => ({ ...userView(user), balance: user.balance });

const activationView = (row: q.ActivationRow) => ({
  transaction_id: row.id,
  user: { id: row.user_id, username: row.username },
  offer: row.offer_id === null ? null : { id: row.offer_id, name: row.offer_name ?? '' },
  amount: row.amount,
  status: row.status,
  attempts: row.attempts,
  reference: row.reference,
  error_code: row.error_code,
  last_error: row.error_message,
  needs_review: row.needs_review,
  next_attempt_at: row.completed_at === null ? (row.next_run_at?.toISOString() ?? null) : null,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  completed_at: row.completed_at?.toISOString() ?? null,
});

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireAdmin);

  app.post('/users/', {
    schema: { ...schemaDefaults, body: NewUserBody, response: { 201: AdminUser, ...guarded, ...errors(400, 409) } },
  }, async (request, reply) => {
    const { is_admin: isAdmin, ...rest } = request.body;
    const user = await createUser(app.db, { ...rest, isAdmin });
    return reply.code(201).send({ ...userView(user), balance: '0.00' });
  });

  app.get('/users/', {
    schema: { ...schemaDefaults, querystring: UserListQuery, response: { 200: Page(AdminUser), ...guarded, ...errors(400) } },
  }, async (request) => {
    const [count, page] = await Promise.all([
      q.countUsers(app.db),
      keysetPage({ ...request.query, order: 'asc' }, (u: q.UserWithBalance) => u.id, (slice) => q.listUsers(app.db, slice)),
    ]);
    return { count, ...page, results: page.results.map(adminView) };
  });

  app.get('/users/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: AdminUser, ...guarded, ...errors(400, 404) } },
  }, async (request) => {
    const user = await q.findUserWithBalance(app.db, request.params.id);
    if (!user) throw notFound('User');
    return adminView(user);
  });

  app.post('/users/:id/credit/', {
    schema: {
      ...schemaDefaults,
      params: IdParams,
      headers: IdempotencyHeaders,
      body: CreditBody,
      response: { 201: CreditResult, ...guarded, ...errors(400, 404, 409) },
    },
  }, async (request, reply) => {
    const key = request.headers['idempotency-key'];
    const { body, replayed } = await creditAccount(app.db, {
      userId: request.params.id,
      amount: request.body.amount,
      reason: request.body.reason,
      idempotency: key === undefined ? undefined : { scopeUserId: request.user.userId, key },
    });
    if (replayed) reply.header('idempotent-replayed', 'true');
    else app.commits.notify();
    return reply.code(201).send(body);
  });

  app.get('/offers/', {
    schema: { ...schemaDefaults, querystring: OfferListQuery, response: { 200: Page(Offer), ...guarded, ...errors(400) } },
  }, async (request) => offerPage(app.db, request.query, false));

  app.post('/offers/', {
    schema: { ...schemaDefaults, body: NewOffer, response: { 201: Offer, ...guarded, ...errors(400) } },
  }, async (request, reply) => reply.code(201).send(await createOffer(app.db, request.body)));

  app.get('/offers/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: Offer, ...guarded, ...errors(400, 404) } },
  }, async (request) => getOffer(app.db, request.params.id, false));

  app.patch('/offers/:id/', {
    schema: { ...schemaDefaults, params: IdParams, body: OfferPatch, response: { 200: Offer, ...guarded, ...errors(400, 404) } },
  }, async (request) => changeOffer(app.db, request.params.id, request.body));

  app.get('/transactions/', {
    schema: { ...schemaDefaults, querystring: AdminTransactionQuery, response: { 200: Page(TransactionView), ...guarded, ...errors(400) } },
  }, async (request) => {
    const { user, status, type, limit, cursor } = request.query;
    return transactionPage(app.db, { userId: user, status, type }, { limit, cursor });
  });

  app.get('/activations/', {
    schema: { ...schemaDefaults, querystring: AdminActivationQuery, response: { 200: Page(AdminActivation), ...guarded, ...errors(400) } },
  }, async (request) => {
    const { status, needs_review: needsReview, limit, cursor } = request.query;
    const filter = { status, needsReview };
    const [count, page] = await Promise.all([
      q.countActivations(app.db, filter),
      keysetPage(
        { limit, cursor, order: 'desc', maxKey: Number.MAX_SAFE_INTEGER },
        (row: q.ActivationRow) => row.seq,
        (slice) => q.listActivations(app.db, filter, slice),
      ),
    ]);
    return { count, ...page, results: page.results.map(activationView) };
  });
};

export default adminRoutes;
