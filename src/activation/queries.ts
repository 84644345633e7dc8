// SQL for the activation pipeline. Every state change is a compare-and-set on `status`, so a job
// delivered twice, a crashed worker or a retried request can never charge, refund or activate twice.
import { sql, type Transaction } from 'kysely';
import { emit } from '../events/outbox.js';
import * as ledger from '../ledger/ledger.js';
import type { Database } from '../db/connect.js';
import type { ActivationSource, DB } from '../db/types.js';
import { renewalFailed } from '../lifecycle/renewal-outcome.js';
import type { FailureCode } from './domain.js';

const statusColumns = [
  'id',
  'user_id',
  'status',
  'offer_id',
  'amount',
  'reference',
  'error_code',
  'error_message',
  'created_at',
  'updated_at',
  'completed_at',
  'source',
] as const;

export function findStatus(db: Database, id: string, userId: number) {
  return db
    .selectFrom('transactions')
    .select(statusColumns)
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('type', '=', 'ACTIVATION')
    .executeTakeFirst();
}

export type StatusRow = NonNullable<Awaited<ReturnType<typeof findStatus>>>;

/**
 * A PENDING activation of an active offer at its current price and duration, or undefined when the
 * offer is unknown or inactive. One statement, so the charge takes one round trip fewer.
 */
export function insertPendingActivation(
  trx: Transaction<DB>,
  activation: { id: string; userId: number; offerId: number; source: ActivationSource },
) {
  return trx
    .insertInto('transactions')
    .columns(['id', 'user_id', 'type', 'status', 'amount', 'offer_id', 'duration_days', 'source', 'next_run_at'])
    .expression(
      trx
        .selectFrom('offers')
        .select((eb) => [
          eb.val(activation.id).as('id'),
          eb.val(activation.userId).as('user_id'),
          sql.lit('ACTIVATION').as('type'),
          sql.lit('PENDING').as('status'),
          'price',
          'offers.id',
          'duration_days',
          eb.val(activation.source).as('source'),
          sql<Date>`now()`.as('next_run_at'),
        ])
        .where('offers.id', '=', activation.offerId)
        .where('is_active', '=', true),
    )
    .returning(statusColumns)
    .executeTakeFirst();
}

/**
 * Takes PENDING activations, or PROCESSING ones waiting for its retry or whose lease ran out (its
 * worker died), for one partner call. A duplicate delivery while another worker holds the lease
 * finds nothing to claim. A lease that ran out means a call may have reached the partner, so the
 * activation counts as maybe delivered. `deadline_passed`: created longer than `deadlineMs` ago.
 */
export function claimForProcessing(db: Database, ids: string[], timing: { leaseMs: number; deadlineMs: number }) {
  return db
    .updateTable('transactions as t')
    .set({
      status: 'PROCESSING',
      attempts: sql`t.attempts + 1`,
      lease_until: sql`now() + make_interval(secs => ${timing.leaseMs / 1000})`,
      next_run_at: sql`now()`,
      maybe_delivered: sql`t.maybe_delivered OR t.lease_until IS NOT NULL`,
      updated_at: sql`now()`,
    })
    .where(sql<boolean>`t.id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`)
    .where('t.type', '=', 'ACTIVATION')
    .where((eb) =>
      eb.or([
        eb('t.status', '=', 'PENDING'),
        eb.and([eb('t.status', '=', 'PROCESSING'), eb.or([eb('t.lease_until', 'is', null), eb('t.lease_until', '<', sql<Date>`now()`)])]),
      ]),
    )
    // Everything the status cache shows, so the claim needs no second read to publish PROCESSING.
    .returning([
      ...statusColumns.map((c) => `t.${c}` as const),
      't.attempts',
      't.duration_days',
      't.maybe_delivered',
      sql<boolean>`t.created_at + make_interval(secs => ${timing.deadlineMs / 1000}) <= now()`.as('deadline_passed'),
    ])
    .$narrowType<{ duration_days: number }>() // the activation_has_duration CHECK
    .execute();
}

export type ClaimedActivation = Awaited<ReturnType<typeof claimForProcessing>>[number];

const statusList = sql.join(statusColumns.map((c) => sql.ref(c)));
const statusListOf = (table: string) => sql.join(statusColumns.map((c) => sql.ref(`${table}.${c}`)));

/** A timestamptz column as the API writes times: UTC, milliseconds, "Z". */
const isoTimestamp = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/**
 * PROCESSING → SUCCESS, the subscription created or extended, and their events, once each, for
 * several activations (of different user and offer pairs) at once. One statement, so it is atomic
 * without a transaction and costs the worker a single round trip. Answers the activations it moved.
 */
export async function markSucceeded(
  db: Database,
  successes: { id: string; reference: string }[],
): Promise<StatusRow[]> {
  const { rows } = await sql<StatusRow>`
    WITH answer AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(successes)}::jsonb) AS a(id uuid, reference text)
    ), done AS (
      UPDATE transactions t
         SET status = 'SUCCESS', reference = a.reference, error_message = NULL, lease_until = NULL,
             completed_at = now(), updated_at = now()
        FROM answer a
       WHERE t.id = a.id AND t.status = 'PROCESSING'
      RETURNING ${statusListOf('t')}, t.duration_days
    ), granted AS (
      -- The period bought is the activation's own duration_days, fixed when it was charged.
      INSERT INTO subscriptions (user_id, offer_id, transaction_id, activated_at, expires_at)
      SELECT user_id, offer_id, id, now(), now() + make_interval(days => duration_days) FROM done
      ON CONFLICT (user_id, offer_id) DO UPDATE SET
        transaction_id = EXCLUDED.transaction_id,
        activated_at = CASE WHEN subscriptions.expires_at > now() THEN subscriptions.activated_at ELSE now() END,
        expires_at = GREATEST(subscriptions.expires_at, now())
                     + (SELECT make_interval(days => t.duration_days) FROM transactions t WHERE t.id = EXCLUDED.transaction_id),
        status = 'ACTIVE'
      RETURNING id, user_id, offer_id, transaction_id, activated_at, expires_at
    ), emitted AS (
      -- The outbox rows of this change (see events/outbox.ts for their rule), each activation's
      -- success before its subscription's. A period that starts now was activated; one whose start
      -- stayed put was extended.
      INSERT INTO events (id, type, user_id, subject, data)
      SELECT gen_random_uuid(), type, user_id, subject, data
        FROM (SELECT id AS activation_id, 0 AS k, 'activation.succeeded' AS type, user_id, id::text AS subject,
                     jsonb_build_object('transaction_id', id, 'offer_id', offer_id, 'amount', amount::text, 'reference', reference) AS data
                FROM done
              UNION ALL
              SELECT transaction_id, 1,
                     CASE WHEN activated_at = now() THEN 'subscription.activated' ELSE 'subscription.extended' END,
                     user_id, id::text,
                     jsonb_build_object('subscription_id', id, 'offer_id', offer_id, 'transaction_id', transaction_id,
                                        'activated_at', ${isoTimestamp('activated_at')}, 'expires_at', ${isoTimestamp('expires_at')})
                FROM granted) e
       ORDER BY activation_id, k
    )
    SELECT ${statusList} FROM done`.execute(db);
  return rows;
}

/**
 * PROCESSING → FAILED with the reason, and the money returned as a REFUND, in one transaction, once.
 * `needsReview`: refunded without a definite answer from the partner, so listed for admins.
 */
export function markFailedAndRefund(db: Database, id: string, error: FailureReason) {
  return db.transaction().execute((trx) => failAndRefund(trx, id, error));
}

export interface FailureReason {
  code: FailureCode;
  message: string;
  needsReview: boolean;
}

/** markFailedAndRefund's work in the caller's transaction (an admin's resolution writes its audit row with it). */
export async function failAndRefund(trx: Transaction<DB>, id: string, error: FailureReason) {
  const failed = await trx
    .updateTable('transactions')
    .set({
      status: 'FAILED',
      error_code: error.code,
      error_message: error.message,
      needs_review: error.needsReview,
      lease_until: null,
      completed_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('status', '=', 'PROCESSING')
    .returning(statusColumns)
    .executeTakeFirst();
  if (!failed) return undefined;
  const refundId = await ledger.refund(trx, failed, error.message);
  await emit(trx, {
    type: 'activation.failed',
    userId: failed.user_id,
    subject: failed.id,
    data: {
      transaction_id: failed.id,
      offer_id: failed.offer_id,
      amount: failed.amount,
      error: { code: error.code, message: error.message },
      refund_transaction_id: refundId,
    },
  });
  if (failed.source === 'auto_renew') await renewalFailed(trx, failed, { reason: error.code, message: error.message });
  return failed;
}

/** One activation, locked until the surrounding transaction ends, with what an admin's decision needs. */
export function lockActivation(trx: Transaction<DB>, id: string) {
  return trx
    .selectFrom('transactions')
    .select([...statusColumns, 'duration_days', 'attempts', 'maybe_delivered', 'needs_review', 'lease_until', 'next_run_at'])
    .where('id', '=', id)
    .where('type', '=', 'ACTIVATION')
    .forUpdate()
    .executeTakeFirst();
}

export type LockedActivation = NonNullable<Awaited<ReturnType<typeof lockActivation>>>;

/** An unfinished activation due now: the reconciler picks it up should the queue lose the job. */
export function dueNow(trx: Transaction<DB>, id: string) {
  return trx
    .updateTable('transactions')
    .set({ next_run_at: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', 'in', ['PENDING', 'PROCESSING'])
    .returning([...statusColumns, 'next_run_at'])
    .executeTakeFirst();
}

/** FAILED and flagged for review → reviewed: the refund already made stands. Compare-and-set on the flag. */
export function clearReview(trx: Transaction<DB>, id: string) {
  return trx
    .updateTable('transactions')
    .set({ needs_review: false, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '=', 'FAILED')
    .where('needs_review', '=', true)
    .returning(statusColumns)
    .executeTakeFirst();
}

/**
 * Hands a claimed activation back for a later attempt at next_run_at; only the holder of this
 * attempt can. `maybeDelivered`: this attempt's request may have reached the partner.
 */
export async function releaseForRetry(
  db: Database,
  claimed: ClaimedActivation,
  retry: { delayMs: number; lastError: string; maybeDelivered: boolean },
) {
  const result = await db
    .updateTable('transactions')
    .set({
      lease_until: null,
      next_run_at: sql`now() + make_interval(secs => ${retry.delayMs / 1000})`,
      error_message: retry.lastError,
      maybe_delivered: sql`maybe_delivered OR ${retry.maybeDelivered}`,
      updated_at: sql`now()`,
    })
    .where('id', '=', claimed.id)
    .where('status', '=', 'PROCESSING')
    .where('attempts', '=', claimed.attempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Unfinished activations that nobody has touched for `staleMs` past their due time (lost job,
 * crashed process, Redis flushed). One waiting for a retry is due at next_run_at, so it is left alone
 * until then. Marks them as rescheduled in the same statement, so concurrent reconcilers split the work.
 */
export async function rescheduleOverdue(db: Database, staleMs: number, limit: number): Promise<string[]> {
  const result = await sql<{ id: string }>`
    UPDATE transactions SET next_run_at = now()
     WHERE id IN (
       SELECT id FROM transactions
        WHERE status IN ('PENDING', 'PROCESSING')
          AND next_run_at < now() - make_interval(secs => ${staleMs / 1000})
          AND (lease_until IS NULL OR lease_until < now())
        ORDER BY next_run_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
    RETURNING id`.execute(db);
  return result.rows.map((r) => r.id);
}

/**
 * Unfinished activations nobody holds that were last changed longer than `staleMs` ago and are due
 * (not waiting for a scheduled retry): what the "activations stuck" alert counts. The reconciler
 * moves next_run_at but not updated_at, so its own re-enqueues do not hide them.
 */
export async function countStuck(db: Database, staleMs: number): Promise<number> {
  const row = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', 'in', ['PENDING', 'PROCESSING'])
    .where('next_run_at', '<=', sql<Date>`now()`)
    .where('updated_at', '<', sql<Date>`now() - make_interval(secs => ${staleMs / 1000})`)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function purgeIdempotencyKeys(db: Database, olderThanHours: number) {
  await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${olderThanHours})`)
    .execute();
}
