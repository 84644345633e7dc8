// Purchases charged together: one set-based statement does for a whole batch what the single
// charge does for one request (idempotency key, PENDING activation at the offer's price, debit that
// never overdraws, ledger row, low-balance alert, events), and answers per request. One statement
// is its own transaction: the batch commits or rolls back whole, in one round trip.
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import { alertThresholdOf } from './ledger.js';

export interface PurchaseRequest {
  /** The activation's transaction id, if it is charged. */
  id: string;
  userId: number;
  offerId: number;
  idempotencyKey: string | undefined;
  requestHash: string;
}

export type PurchaseOutcome =
  | { outcome: 'accepted'; activation: ChargedActivation }
  | { outcome: 'replayed'; transactionId: string }
  | { outcome: 'key_reused' | 'unknown_offer' | 'insufficient_balance' };

export interface ChargedActivation {
  id: string;
  user_id: number;
  status: 'PENDING';
  offer_id: number | null;
  amount: string;
  reference: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  source: 'purchase';
}

interface OutcomeRow extends Omit<ChargedActivation, 'id' | 'status' | 'source'> {
  n: number;
  outcome: 'accepted' | 'replayed' | 'key_reused' | 'unknown_offer' | 'insufficient_balance';
  transaction_id: string | null;
}

/**
 * Charges a batch of purchases, each of a different user (the caller keeps one user's requests in
 * arrival order across batches). A key already used answers the earlier transaction (same request)
 * or key_reused; a request that is refused writes nothing. Throws when the statement fails (a key
 * claimed meanwhile by another process, a deadlock, an outage): nothing of the batch was written.
 */
export async function chargePurchases(db: Database, requests: PurchaseRequest[], lowBalanceThreshold: string): Promise<PurchaseOutcome[]> {
  const batch = JSON.stringify(
    requests.map((r, n) => ({ n, id: r.id, user_id: r.userId, offer_id: r.offerId, key: r.idempotencyKey ?? null, request_hash: r.requestHash })),
  );
  const { rows } = await sql<OutcomeRow>`
    WITH request AS (
      SELECT * FROM jsonb_to_recordset(${batch}::jsonb)
          AS r(n int, id uuid, user_id int, offer_id int, key text, request_hash text)
    ), earlier AS (
      SELECT r.n, k.transaction_id, k.request_hash = r.request_hash AS same_request
        FROM request r JOIN idempotency_keys k ON k.user_id = r.user_id AND k.key = r.key
    ), priced AS (
      SELECT r.*, o.price, o.duration_days
        FROM request r JOIN offers o ON o.id = r.offer_id AND o.is_active
       WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e.n = r.n)
    ), locked AS (
      -- In user order, so batches of several processes never wait on each other in a circle.
      SELECT a.user_id, a.low_balance_alerted_below, ${alertThresholdOf('a', lowBalanceThreshold)} AS threshold
        FROM accounts a
       WHERE a.user_id IN (SELECT user_id FROM priced)
       ORDER BY a.user_id
         FOR UPDATE OF a
    ), debited AS (
      UPDATE accounts a
         SET balance = a.balance - p.price,
             updated_at = now(),
             low_balance_alerted_below = CASE
               WHEN a.low_balance_alerted_below IS NULL AND a.balance - p.price < l.threshold THEN l.threshold
               ELSE a.low_balance_alerted_below END
        FROM priced p JOIN locked l ON l.user_id = p.user_id
       WHERE a.user_id = p.user_id AND a.balance >= p.price
      RETURNING p.n, p.id, p.user_id, p.offer_id, p.price, p.duration_days, p.key, p.request_hash,
                a.balance, l.threshold,
                l.low_balance_alerted_below IS NULL AND a.low_balance_alerted_below IS NOT NULL AS alerted
    ), activation AS (
      INSERT INTO transactions (id, user_id, type, status, amount, offer_id, duration_days, source, next_run_at)
      SELECT id, user_id, 'ACTIVATION', 'PENDING', price, offer_id, duration_days, 'purchase', now()
        FROM debited ORDER BY n
      RETURNING id, user_id, offer_id, amount, reference, error_code, error_message, created_at, updated_at, completed_at
    ), ledger AS (
      INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
      SELECT user_id, id, -price, balance FROM debited
    ), claimed AS (
      INSERT INTO idempotency_keys (user_id, key, request_hash, transaction_id)
      SELECT user_id, key, request_hash, id FROM debited WHERE key IS NOT NULL
    ), emitted AS (
      -- The outbox rows of this change (see events/outbox.ts): each charge, then each alert it raised.
      INSERT INTO events (id, type, user_id, subject, data)
      SELECT gen_random_uuid(), type, user_id, id::text, data
        FROM (SELECT 0 AS k, n, 'activation.pending' AS type, user_id, id,
                     jsonb_build_object('transaction_id', id, 'offer_id', offer_id, 'amount', price::text,
                                        'balance', balance::text, 'source', 'purchase') AS data
                FROM debited
              UNION ALL
              SELECT 1, n, 'balance.low', user_id, id,
                     jsonb_build_object('balance', balance::text, 'threshold', threshold::text, 'transaction_id', id)
                FROM debited WHERE alerted) e
       ORDER BY n, k
    )
    SELECT r.n,
           CASE WHEN e.n IS NOT NULL THEN CASE WHEN e.same_request THEN 'replayed' ELSE 'key_reused' END
                WHEN a.id IS NOT NULL THEN 'accepted'
                WHEN p.n IS NULL THEN 'unknown_offer'
                ELSE 'insufficient_balance' END AS outcome,
           COALESCE(e.transaction_id, a.id) AS transaction_id,
           a.user_id, a.offer_id, a.amount, a.reference, a.error_code, a.error_message,
           a.created_at, a.updated_at, a.completed_at
      FROM request r
      LEFT JOIN earlier e ON e.n = r.n
      LEFT JOIN priced p ON p.n = r.n
      LEFT JOIN activation a ON a.id = r.id
     ORDER BY r.n`.execute(db);

  return rows.map((row): PurchaseOutcome => {
    if (row.outcome === 'accepted') {
      const { n: _n, outcome: _o, transaction_id, ...columns } = row;
      return { outcome: 'accepted', activation: { ...columns, id: transaction_id!, status: 'PENDING', source: 'purchase' } };
    }
    if (row.outcome === 'replayed') return { outcome: 'replayed', transactionId: row.transaction_id! };
    return { outcome: row.outcome };
  });
}
