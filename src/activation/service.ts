// Taking an activation request: check and charge in one database transaction, answer at once,
// and only after commit hand the work to the queue.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { isUuid } from '../account/service.js';
import type { StatusCache } from '../cache/status-cache.js';
import { DEFAULT_CHARGE_BATCHING } from '../config.js';
import type { Database } from '../db/connect.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { type BatchLimits, GroupCommit, type Settled, settledError, settledValue } from '../db/group-commit.js';
import type { ActivationSource, DB } from '../db/types.js';
import { type AuditContext, auditTarget } from '../audit/domain.js';
import { recordAudit } from '../audit/service.js';
import { conflict, idempotencyKeyReused, insufficientBalance, notFound } from '../domain/errors.js';
import { emit } from '../events/outbox.js';
import { chargePurchases, type PurchaseOutcome, type PurchaseRequest } from '../ledger/batch-charge.js';
import { claimIdempotencyKey, requestHash } from '../ledger/idempotency.js';
import * as ledger from '../ledger/ledger.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import type { JobQueue } from '../queue/types.js';
import { type ActivationView, awaitsDecision, isFinal, type Resolution } from './domain.js';
import * as q from './queries.js';
import { statusView, toView } from './status.js';

export interface ActivationAccepted {
  transaction_id: string;
  status: 'PENDING';
  message: string;
}

interface Charged {
  transactionId: string;
  replayed: boolean;
}

const ACCEPTED_MESSAGE = 'Activation accepted; follow it at /api/v1/activation/status/{transaction_id}/';

/**
 * The charging transaction's work, the same for a purchase and an auto-renewal: a PENDING activation
 * at the offer's current price, the charge, and its event, in the caller's transaction. Throws
 * (not found, insufficient balance) having written part of it: the caller rolls back.
 */
export async function chargeActivation(
  trx: Transaction<DB>,
  activation: { id: string; userId: number; offerId: number; source: ActivationSource },
  lowBalanceThreshold: string,
): Promise<q.StatusRow> {
  const row = await q.insertPendingActivation(trx, activation);
  if (!row) throw notFound('Offer');
  const balance = await ledger.charge(trx, row, lowBalanceThreshold);
  if (balance === undefined) throw insufficientBalance();
  await emit(trx, {
    type: 'activation.pending',
    userId: activation.userId,
    subject: row.id,
    data: { transaction_id: row.id, offer_id: row.offer_id, amount: row.amount, balance, source: activation.source },
  });
  return row;
}

export class ActivationService {
  constructor(
    private readonly db: Database,
    private readonly queue: JobQueue,
    private readonly cache: StatusCache<ActivationView>,
    private readonly log: Logger,
    private readonly lowBalanceThreshold: string = ledger.DEFAULT_LOW_BALANCE_THRESHOLD,
    private readonly committed: () => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
    batching: BatchLimits = DEFAULT_CHARGE_BATCHING,
  ) {
    this.#purchases = new GroupCommit((batch) => this.#chargeBatch(batch), { ...batching, keyOf: (p) => p.userId });
  }

  /** Purchases that arrive together are charged together; one user's stay in arrival order. */
  readonly #purchases: GroupCommit<PurchaseRequest, Charged>;

  async request(userId: number, offerId: number, idempotencyKey?: string): Promise<{ body: ActivationAccepted; replayed: boolean }> {
    const purchase = { id: randomUUID(), userId, offerId, idempotencyKey, requestHash: requestHash({ offer_id: offerId }) };
    const { transactionId, replayed } = await this.#purchases.submit(purchase);
    return { body: { transaction_id: transactionId, status: 'PENDING', message: ACCEPTED_MESSAGE }, replayed };
  }

  /** A batch of purchases (one per user) in one statement; if it fails whole, each request again on its own. */
  async #chargeBatch(batch: PurchaseRequest[]): Promise<Settled<Charged>[]> {
    let outcomes: PurchaseOutcome[];
    try {
      outcomes = await chargePurchases(this.db, batch, this.lowBalanceThreshold);
    } catch (err) {
      // An outage fails them all alike; anything else (a key claimed meanwhile elsewhere, a
      // deadlock) was one request's trouble, rolled back with the batch: the others must not pay for it.
      if (isDatabaseUnavailable(err)) throw err;
      this.log.warn({ err, batch_size: batch.length }, 'charging a batch failed; charging its requests one by one');
      return Promise.all(batch.map((p) => this.#chargeAlone(p).then(settledValue, settledError)));
    }
    await this.afterCommitMany(outcomes.flatMap((o) => (o.outcome === 'accepted' ? [o.activation] : [])));
    return outcomes.map((o): Settled<Charged> => {
      switch (o.outcome) {
        case 'accepted':
          return settledValue({ transactionId: o.activation.id, replayed: false });
        case 'replayed':
          return settledValue({ transactionId: o.transactionId, replayed: true });
        case 'key_reused':
          return settledError(idempotencyKeyReused());
        case 'unknown_offer':
          return settledError(notFound('Offer'));
        case 'insufficient_balance':
          return settledError(insufficientBalance());
      }
    });
  }

  /** One purchase in its own transaction: the key claimed first, so a concurrent replay waits for it. */
  async #chargeAlone(purchase: PurchaseRequest): Promise<Charged> {
    const { id, userId, offerId, idempotencyKey, requestHash: hash } = purchase;
    const outcome = await this.db.transaction().execute(async (trx) => {
      if (idempotencyKey !== undefined) {
        const earlier = await claimIdempotencyKey(trx, { userId, key: idempotencyKey, requestHash: hash, transactionId: id });
        if (earlier) {
          if (earlier.request_hash !== hash) throw idempotencyKeyReused();
          return { replayedId: earlier.transaction_id, row: undefined };
        }
      }
      const row = await chargeActivation(trx, { id, userId, offerId, source: 'purchase' }, this.lowBalanceThreshold);
      return { replayedId: undefined, row };
    });
    if (outcome.replayedId !== undefined) return { transactionId: outcome.replayedId, replayed: true };
    await this.afterCommit(outcome.row);
    return { transactionId: id, replayed: false };
  }

  /**
   * Hands a charged activation (a purchase, or a renewal the lifecycle scheduler charged with
   * chargeActivation) to the worker once its transaction has committed.
   */
  afterCommit(row: q.StatusRow): Promise<void> {
    return this.afterCommitMany([row]);
  }

  /**
   * Publishes committed activations: one status-cache write and one enqueue for all of them.
   * Failures here are logged, not returned: the charges are committed and the reconciler will
   * enqueue them.
   */
  async afterCommitMany(rows: q.StatusRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.committed();
    for (const row of rows) this.metrics.activationAccepted(row.source ?? 'purchase');
    const views = rows.map(toView);
    // The PENDING view is written before the job exists: written after, it could land on top of
    // the worker's SUCCESS and show PENDING until it expires.
    await this.cache.setMany(views.map((view) => [view.transaction_id, view])).catch((err: unknown) => {
      for (const view of views) this.log.warn({ err, transaction_id: view.transaction_id }, 'could not cache activation status');
    });
    await this.queue.enqueueMany(views.map((view) => ({ transactionId: view.transaction_id }))).catch((err: unknown) => {
      // One line per activation, so its id finds it in the logs.
      for (const view of views) {
        this.log.error({ err, transaction_id: view.transaction_id }, 'could not enqueue activation; the reconciler will retry it');
      }
    });
  }

  /**
   * An admin's "try it now" for a PENDING or PROCESSING activation: due at once and handed to the
   * queue after commit. The worker's claim stays the gate: if a worker holds the activation, the
   * new job finds nothing to claim, so no second partner call runs alongside.
   */
  async redrive(transactionId: string, audit: AuditContext): Promise<q.StatusRow> {
    const id = this.#activationId(transactionId);
    const row = await this.db.transaction().execute(async (trx) => {
      const before = await q.lockActivation(trx, id);
      if (!before) throw notFound('Activation');
      if (isFinal(before)) throw alreadyFinal(before.status);
      const after = await q.dueNow(trx, id);
      if (!after) throw alreadyFinal(before.status);
      await recordAudit(trx, audit, {
        action: 'activation.redrive',
        target: auditTarget.activation(id),
        before: reviewState(before),
        after: { status: after.status, next_run_at: after.next_run_at?.toISOString() ?? null },
      });
      return after;
    });
    try {
      await this.queue.enqueue({ transactionId: id });
    } catch (err) {
      this.log.error({ err, transaction_id: id }, 'could not enqueue the redriven activation; the reconciler will pick it up');
    }
    return row;
  }

  /**
   * An admin settles an activation that awaits a decision with the partner's answer, through the
   * worker's own compare-and-set moves: SUCCESS grants the subscription (markSucceeded), FAILED
   * refunds once (failAndRefund). One refunded at the deadline can only be confirmed FAILED: its
   * money went back already. The row is locked, so a worker finishing it meanwhile waits and then
   * finds it settled.
   */
  async resolve(transactionId: string, resolution: Resolution, audit: AuditContext): Promise<q.StatusRow> {
    const id = this.#activationId(transactionId);
    const row = await this.db.transaction().execute(async (trx) => {
      const before = await q.lockActivation(trx, id);
      if (!before) throw notFound('Activation');
      const after = await settle(trx, before, resolution);
      await recordAudit(trx, audit, {
        action: 'activation.resolve',
        target: auditTarget.activation(id),
        before: reviewState(before),
        after: { ...resolution, status: after.status, refunded: after.status === 'FAILED' },
      });
      return after;
    });
    this.committed();
    const status = toView(row);
    await this.cache.set(status.transaction_id, status).catch((err: unknown) => this.log.warn({ err }, 'could not cache activation status'));
    return row;
  }

  #activationId(transactionId: string) {
    if (!isUuid(transactionId)) throw notFound('Activation');
    return transactionId.toLowerCase();
  }

  /** The caller's activation; unknown, malformed and other users' ids are all a 404. */
  async status(userId: number, transactionId: string) {
    if (!isUuid(transactionId)) throw notFound('Activation');
    const id = transactionId.toLowerCase();
    const cached = await this.cache.get(id).catch((err: unknown) => {
      this.log.warn({ err }, 'status cache unavailable; reading the database');
      return undefined;
    });
    if (cached) {
      if (cached.user_id !== userId) throw notFound('Activation');
      return statusView(cached);
    }
    const row = await q.findStatus(this.db, id, userId);
    if (!row) throw notFound('Activation');
    const status = toView(row);
    // Only final states are cached from a read: they cannot be overtaken by a later write.
    if (isFinal(status)) await this.cache.set(id, status).catch(() => undefined);
    return statusView(status);
  }
}

const alreadyFinal = (status: string) => conflict('activation_final', `The activation is already ${status}`);

function reviewState(a: q.LockedActivation) {
  return {
    status: a.status,
    attempts: a.attempts,
    maybe_delivered: a.maybe_delivered,
    needs_review: a.needs_review,
    next_run_at: a.next_run_at?.toISOString() ?? null,
    lease_until: a.lease_until?.toISOString() ?? null,
    reference: a.reference,
    error_code: a.error_code,
  };
}

async function settle(trx: Transaction<DB>, before: q.LockedActivation, resolution: Resolution): Promise<q.StatusRow> {
  if (!awaitsDecision(before)) {
    if (isFinal(before)) throw alreadyFinal(before.status);
    throw conflict(
      'activation_not_in_review',
      'The partner has not been asked without a definite answer; the worker settles this activation itself (redrive it to try now)',
    );
  }
  if (before.status === 'FAILED') {
    if (resolution.outcome === 'SUCCESS') {
      throw conflict('activation_final', 'The activation was failed and refunded at its deadline; it can only be confirmed FAILED');
    }
    const reviewed = await q.clearReview(trx, before.id);
    if (!reviewed) throw alreadyFinal(before.status);
    return reviewed;
  }
  const settled =
    resolution.outcome === 'SUCCESS'
      ? (await q.markSucceeded(trx, [{ id: before.id, reference: resolution.reference }]))[0]
      : await q.failAndRefund(trx, before.id, { code: 'partner_rejected', message: resolution.reason, needsReview: false });
  if (!settled) throw alreadyFinal(before.status);
  return settled;
}
