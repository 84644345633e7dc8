// /api/v1/admin: users, balances, offers, all transactions and activations, the audit trail. Admins
// only. Every change passes the acting admin (auditContextOf) to its use case, which writes the
// audit row in the change's transaction.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { listActiveSubscriptions } from '../account/queries.js';
import { creditAccount, subscriptionView, transactionPage } from '../account/service.js';
import { TransactionView } from '../account/schemas.js';
import type { Resolution } from '../activation/domain.js';
import auditRoutes, { auditContextOf } from '../audit/routes.js';
import { requireAdmin } from '../auth/guard.js';
import { adminUserView, createUser } from '../auth/service.js';
import { invalid, notFound } from '../domain/errors.js';
import { keysetPage } from '../http/pagination.js';
import { errors, IdempotencyHeaders, IdParams, Page, sendJsonText } from '../http/schemas.js';
import { NewOffer, Offer, OfferListQuery, OfferPatch } from '../offers/schemas.js';
import { changeOffer, createOffer, getOffer, offerPage } from '../offers/service.js';
import * as q from './queries.js';
import {
  ActivationParams,
  AdminActivation,
  AdminActivationQuery,
  AdminTransactionQuery,
  AdminUser,
  AdminUserDetail,
  CreditBody,
  CreditResult,
  NewUserBody,
  ResolveBody,
  UserListQuery,
} from './schemas.js';

const schemaDefaults = { tags: ['admin'], security: [{ bearer: [] }] };
const guarded = errors(401, 403);

const adminView = (user: q.UserWithBalance) => ({ ...adminUserView(user), balance: user.balance });

/** The decision a resolve body spells: SUCCESS needs the partner's reference, FAILED a reason. */
function resolution(body: Static<typeof ResolveBody>): Resolution {
  if (body.outcome === 'SUCCESS') {
    if (body.reference === undefined || body.reason !== undefined) throw mismatched('reference', 'SUCCESS takes a reference and no reason');
    return { outcome: 'SUCCESS', reference: body.reference };
  }
  if (body.reason === undefined || body.reference !== undefined) throw mismatched('reason', 'FAILED takes a reason and no reference');
  return { outcome: 'FAILED', reason: body.reason };
}

const mismatched = (field: string, message: string) => invalid('validation_error', message, [{ field, message }]);

const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** "15m" → 900. The schema has checked the shape. */
const seconds = (age: string) => Number(age.slice(0, -1)) * SECONDS_PER_UNIT[age.slice(-1) as keyof typeof SECONDS_PER_UNIT];

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
  maybe_delivered: row.maybe_delivered,
  next_attempt_at: row.completed_at === null ? (row.next_run_at?.toISOString() ?? null) : null,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  completed_at: row.completed_at?.toISOString() ?? null,
});

const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', requireAdmin);

  await app.register(auditRoutes);

  /** The admin's view of one user, as it is now. */
  async function userById(id: number) {
    const user = await q.findUserWithBalance(app.db, id);
    if (!user) throw notFound('User');
    return adminView(user);
  }

  app.post('/users/', {
    schema: { ...schemaDefaults, body: NewUserBody, response: { 201: AdminUser, ...guarded, ...errors(400, 409) } },
  }, async (request, reply) => {
    const { is_admin: isAdmin, ...rest } = request.body;
    const user = await createUser(app.db, { ...rest, isAdmin }, await auditContextOf(request));
    return reply.code(201).send({ ...adminUserView(user), balance: '0.00' });
  });

  app.get('/users/', {
    schema: { ...schemaDefaults, querystring: UserListQuery, response: { 200: Page(AdminUser), ...guarded, ...errors(400) } },
  }, async (request) => {
    const { search, limit, cursor } = request.query;
    const [count, page] = await Promise.all([
      q.countUsers(app.db, { search }),
      keysetPage({ limit, cursor, order: 'asc' }, (u: q.UserWithBalance) => u.id, (slice) => q.listUsers(app.db, slice, { search })),
    ]);
    return { count, ...page, results: page.results.map(adminView) };
  });

  app.get('/users/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: AdminUserDetail, ...guarded, ...errors(400, 404) } },
  }, async (request) => {
    const [user, subscriptions] = await Promise.all([
      userById(request.params.id),
      listActiveSubscriptions(app.db, request.params.id),
    ]);
    return { ...user, subscriptions: subscriptions.map(subscriptionView) };
  });

  app.post('/users/:id/disable/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: AdminUser, ...guarded, ...errors(400, 404, 409) } },
  }, async (request) => {
    await app.auth.disableUser(request.params.id, await auditContextOf(request));
    app.commits.notify();
    return userById(request.params.id);
  });

  app.post('/users/:id/enable/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: AdminUser, ...guarded, ...errors(400, 404) } },
  }, async (request) => {
    await app.auth.enableUser(request.params.id, await auditContextOf(request));
    app.commits.notify();
    return userById(request.params.id);
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
      audit: await auditContextOf(request),
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
  }, async (request, reply) => reply.code(201).send(await createOffer(app.db, request.body, await auditContextOf(request))));

  app.get('/offers/:id/', {
    schema: { ...schemaDefaults, params: IdParams, response: { 200: Offer, ...guarded, ...errors(400, 404) } },
  }, async (request) => getOffer(app.db, request.params.id, false));

  app.patch('/offers/:id/', {
    schema: { ...schemaDefaults, params: IdParams, body: OfferPatch, response: { 200: Offer, ...guarded, ...errors(400, 404) } },
  }, async (request) => changeOffer(app.db, request.params.id, request.body, await auditContextOf(request)));

  app.get('/transactions/', {
    schema: { ...schemaDefaults, querystring: AdminTransactionQuery, response: { 200: Page(TransactionView), ...guarded, ...errors(400) } },
  }, async (request, reply) => {
    const { user, status, type, limit, cursor } = request.query;
    return sendJsonText(reply, await transactionPage(app.db, { userId: user, status, type }, { limit, cursor }));
  });

  app.get('/activations/', {
    schema: { ...schemaDefaults, querystring: AdminActivationQuery, response: { 200: Page(AdminActivation), ...guarded, ...errors(400) } },
  }, async (request) => {
    const { status, needs_review: needsReview, older_than: olderThan, limit, cursor } = request.query;
    const filter = { status, needsReview, olderThanSeconds: olderThan === undefined ? undefined : seconds(olderThan) };
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

  /** The admin's view of one activation, as it is now. */
  async function activationById(id: string) {
    const row = await q.findActivation(app.db, id);
    if (!row) throw notFound('Activation');
    return activationView(row);
  }

  app.post('/activations/:id/redrive/', {
    schema: { ...schemaDefaults, params: ActivationParams, response: { 202: AdminActivation, ...guarded, ...errors(404, 409) } },
  }, async (request, reply) => {
    const row = await app.activation.redrive(request.params.id, await auditContextOf(request));
    return reply.code(202).send(await activationById(row.id));
  });

  app.post('/activations/:id/resolve/', {
    schema: {
      ...schemaDefaults,
      params: ActivationParams,
      body: ResolveBody,
      response: { 200: AdminActivation, ...guarded, ...errors(400, 404, 409) },
    },
  }, async (request) => {
    const row = await app.activation.resolve(request.params.id, resolution(request.body), await auditContextOf(request));
    return activationById(row.id);
  });
};

export default adminRoutes;
