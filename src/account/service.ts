// Balances, active offers, history and credits.
import { randomUUID } from 'node:crypto';
import { type AuditContext, auditTarget } from '../audit/domain.js';
import { recordAudit } from '../audit/service.js';
import type { Database } from '../db/connect.js';
import { idempotencyKeyReused, invalid, notFound } from '../domain/errors.js';
import { keysetLinks, keysetPage, keysetRequest } from '../http/pagination.js';
import { claimIdempotencyKey, requestHash } from '../ledger/idempotency.js';
import * as ledger from '../ledger/ledger.js';
import * as q from './queries.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

function offerOf(row: {
  offer_id: number | null;
  offer_name: string | null;
  offer_description: string | null;
  offer_price: string | null;
  offer_duration_days: number | null;
  offer_is_active: boolean | null;
}) {
  if (row.offer_id === null) return null;
  return {
    id: row.offer_id,
    name: row.offer_name ?? '',
    description: row.offer_description ?? '',
    price: row.offer_price ?? '0.00',
    duration_days: row.offer_duration_days ?? 0,
    is_active: row.offer_is_active ?? false,
  };
}

export function activeOfferView(row: q.SubscriptionRow) {
  return {
    offer: offerOf(row)!,
    activated_at: row.activated_at,
    expires_at: row.expires_at,
    transaction_id: row.transaction_id,
  };
}

export function subscriptionView(row: q.SubscriptionRow) {
  return { id: row.id, ...activeOfferView(row), status: row.status, auto_renew: row.auto_renew };
}

export function transactionView(row: q.TransactionRow) {
  return {
    transaction_id: row.id,
    type: row.type,
    status: row.status,
    amount: row.amount,
    offer: offerOf(row),
    description: row.description,
    reference: row.reference,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    related_transaction_id: row.related_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
  };
}

export async function accountOverview(db: Database, userId: number, currency: string) {
  const rows = await q.findAccountWithActiveOffers(db, userId);
  const account = rows[0];
  if (!account) throw notFound('Account');
  return {
    username: account.username,
    balance: account.balance,
    currency,
    active_offers: rows.filter((row): row is q.SubscriptionRow & typeof row => row.id !== null).map(activeOfferView),
  };
}

export async function balance(db: Database, userId: number, currency: string) {
  const account = await q.findAccount(db, userId);
  if (!account) throw notFound('Account');
  return { balance: account.balance, currency };
}

export async function subscriptionPage(
  db: Database,
  userId: number,
  page: { limit: number; cursor?: string | undefined },
  filter: q.SubscriptionFilter = {},
) {
  const [count, result] = await Promise.all([
    q.countActiveSubscriptions(db, userId, filter),
    keysetPage(
      { ...page, order: 'asc' },
      (s: q.SubscriptionRow) => s.id,
      (slice) => q.listActiveSubscriptions(db, userId, slice, filter),
    ),
  ]);
  return { count, ...result, results: result.results.map(subscriptionView) };
}

/** Turns auto-renewal of one of the caller's subscriptions on or off; anyone else's is a 404. */
export async function setAutoRenew(db: Database, userId: number, id: number, autoRenew: boolean) {
  if (!(await q.setAutoRenew(db, userId, id, autoRenew))) throw notFound('Subscription');
  const row = await q.findSubscription(db, userId, id);
  if (!row) throw notFound('Subscription');
  return subscriptionView(row);
}

/**
 * A page of history as the JSON text of a Page(TransactionView), written by PostgreSQL (see
 * transactionPageJson): the route sends it as it is.
 */
export async function transactionPage(
  db: Database,
  filter: q.TransactionFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<string> {
  const request = keysetRequest({ ...page, order: 'desc', maxKey: Number.MAX_SAFE_INTEGER });
  const found = await q.transactionPageJson(db, filter, request.slice, { limit: request.limit, displayOrder: 'desc' });
  // Newest first: the first row has the highest key.
  const links = keysetLinks(request, {
    more: found.fetched > request.limit,
    first: found.max_seq === null ? undefined : Number(found.max_seq),
    last: found.min_seq === null ? undefined : Number(found.min_seq),
  });
  // In the order of the Page schema's properties, as its serialiser would write them.
  return `{"count":${Number(found.count)},"next":${JSON.stringify(links.next)},"previous":${JSON.stringify(links.previous)},"results":${found.results}}`;
}

/** A transaction of this user; unknown, malformed and other users' ids all look the same: 404. */
export async function userTransaction(db: Database, userId: number, id: string) {
  const row = isUuid(id) ? await q.findTransaction(db, id, userId) : undefined;
  if (!row) throw notFound('Transaction');
  return transactionView(row);
}

const NUMERIC_OUT_OF_RANGE = '22003';

export interface CreditRequest {
  userId: number;
  amount: string;
  reason: string;
  /** Whose key it is (the admin, or the account for the CLI) and the key itself. */
  idempotency?: { scopeUserId: number; key: string } | undefined;
  /** Who credits (an admin, the CLI): the credit and its audit row commit together. */
  audit?: AuditContext | undefined;
}

/** Tops a balance up. A replayed Idempotency-Key answers the first credit's result and credits nothing. */
export async function creditAccount(db: Database, request: CreditRequest): Promise<{ body: { transaction_id: string; balance: string }; replayed: boolean }> {
  const { userId, amount, reason, idempotency, audit } = request;
  if (!/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) {
    throw invalid('invalid_amount', 'amount must be a positive decimal string with at most 2 decimals, like "50.00"');
  }
  const transactionId = randomUUID();
  try {
    return await db.transaction().execute(async (trx) => {
      if (idempotency) {
        const hash = requestHash({ op: 'credit', user_id: userId, amount, reason });
        const earlier = await claimIdempotencyKey(trx, { userId: idempotency.scopeUserId, key: idempotency.key, requestHash: hash, transactionId });
        if (earlier) {
          if (earlier.request_hash !== hash) throw idempotencyKeyReused();
          const balance = await ledger.balanceAfter(trx, earlier.transaction_id);
          if (balance === undefined) throw idempotencyKeyReused(); // the key belongs to another kind of request
          return { body: { transaction_id: earlier.transaction_id, balance }, replayed: true };
        }
      }
      const credited = await ledger.credit(trx, { id: transactionId, userId, amount, description: reason });
      if (!credited) throw notFound('User');
      if (audit) {
        const before = await ledger.balanceBefore(trx, credited.transaction_id);
        await recordAudit(trx, audit, {
          action: 'balance.credit',
          target: auditTarget.user(userId),
          before: { balance: before },
          after: { balance: credited.balance, amount, reason, transaction_id: credited.transaction_id },
        });
      }
      return { body: credited, replayed: false };
    });
  } catch (err) {
    if ((err as { code?: string }).code === NUMERIC_OUT_OF_RANGE) {
      throw invalid('amount_too_large', 'The resulting balance would be too large');
    }
    throw err;
  }
}
