// One shape for an activation's status, whether it comes from the cache or the database.
import type { ActivationView } from './domain.js';
import type { StatusRow } from './queries.js';

export function toView(row: StatusRow): ActivationView {
  return {
    transaction_id: row.id,
    user_id: row.user_id,
    status: row.status,
    offer_id: row.offer_id,
    amount: row.amount,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
    reference: row.reference,
    error_code: row.error_code,
    error_message: row.error_message,
  };
}

export function statusView(status: ActivationView) {
  return {
    transaction_id: status.transaction_id,
    status: status.status,
    offer_id: status.offer_id,
    amount: status.amount,
    created_at: status.created_at,
    updated_at: status.updated_at,
    completed_at: status.completed_at,
    ...(status.reference ? { reference: status.reference } : {}),
    ...(status.status === 'FAILED' && status.error_code
      ? { error: { code: status.error_code, message: status.error_message ?? '' } }
      : {}),
  };
}
