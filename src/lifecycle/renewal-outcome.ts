// subscription.renewal_failed, written in the transaction that decided the renewal failed: the
// scheduler's (refused before any charge) or the activation worker's (partner failure, after the refund).
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/types.js';
import { emit } from '../events/outbox.js';
import type { RenewalFailure } from './domain.js';

export interface FailedRenewal {
  userId: number;
  subscriptionId: number;
  offerId: number;
  periodEnd: Date;
  reason: RenewalFailure;
  message: string;
  /** The auto_renew activation, when it was charged (and then refunded). */
  transactionId: string | null;
  amount: string | null;
}

export async function emitRenewalFailed(trx: Transaction<DB>, failed: FailedRenewal): Promise<void> {
  await emit(trx, {
    type: 'subscription.renewal_failed',
    userId: failed.userId,
    subject: String(failed.subscriptionId),
    data: {
      subscription_id: failed.subscriptionId,
      offer_id: failed.offerId,
      period_end: failed.periodEnd.toISOString(),
      reason: failed.reason,
      message: failed.message,
      transaction_id: failed.transactionId,
      amount: failed.amount,
    },
  });
}

/**
 * The activation hook: an auto_renew activation failed and was refunded in this transaction. Records
 * the failure on its renewal (once: the compare-and-set on `failure`) and emits the event.
 */
export async function renewalFailed(
  trx: Transaction<DB>,
  activation: { id: string; user_id: number; amount: string },
  failure: { reason: RenewalFailure; message: string },
): Promise<void> {
  const { rows } = await sql<{ subscription_id: number; period_end: Date; offer_id: number }>`
    UPDATE subscription_renewals r SET failure = ${failure.reason}
      FROM subscriptions s
     WHERE r.transaction_id = ${activation.id} AND r.failure IS NULL AND s.id = r.subscription_id
    RETURNING r.subscription_id, r.period_end, s.offer_id`.execute(trx);
  const renewal = rows[0];
  if (!renewal) return;
  await emitRenewalFailed(trx, {
    userId: activation.user_id,
    subscriptionId: renewal.subscription_id,
    offerId: renewal.offer_id,
    periodEnd: renewal.period_end,
    reason: failure.reason,
    message: failure.message,
    transactionId: activation.id,
    amount: activation.amount,
  });
}
