// The lifecycle scheduler (worker role): per pass, auto-renewals that are due, then expiry of ended
// periods, then reminders, then (every few minutes) pruning of the outbox and the webhook delivery
// log. Every step runs in its own transactions and is safe to run twice or concurrently (see
// queries.ts); a pass that fails, for instance while the database is away, is logged and the next
// one catches up.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type ActivationService, chargeActivation } from '../activation/service.js';
import type { StatusRow } from '../activation/queries.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import { logFailedPass, PeriodicTask } from '../db/periodic-task.js';
import { DomainError } from '../domain/errors.js';
import { emit } from '../events/outbox.js';
import { pruneEvents } from '../events/queries.js';
import { pruneDeliveries } from '../webhooks/queries.js';
import type { LifecycleSettings, PassSummary, RenewalFailure } from './domain.js';
import * as q from './queries.js';
import { emitRenewalFailed } from './renewal-outcome.js';

const BATCH = 200;
const PRUNE_EVERY_MS = 5 * 60_000;

export class LifecycleScheduler {
  #lastPrune: number | undefined;
  readonly #loop: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly activation: ActivationService,
    private readonly clock: Clock,
    private readonly settings: LifecycleSettings,
    intervalMs: number,
    private readonly log: Logger,
  ) {
    this.#loop = new PeriodicTask(() => this.runOnce(), {
      intervalMs,
      onError: logFailedPass(log, {
        unavailable: 'lifecycle pass skipped: database or redis unavailable',
        failed: 'lifecycle pass failed',
      }),
    });
  }

  /** One pass at `now` (the clock's time unless a test says otherwise). */
  async runOnce(now: Date = this.clock.now()): Promise<PassSummary> {
    const summary: PassSummary = { renewed: 0, renewalsFailed: 0, expired: 0, reminded: 0, pruned: 0, prunedDeliveries: 0 };
    // Renewals first: a subscription renewed in this pass must not be expired by it.
    for (;;) {
      const { charged, failed, seen } = await this.#renew(now);
      summary.renewed += charged.length;
      summary.renewalsFailed += failed;
      for (const row of charged) await this.activation.afterCommit(row);
      if (seen < BATCH) break;
    }
    for (;;) {
      const expired = await this.#expire(now);
      summary.expired += expired;
      if (expired < BATCH) break;
    }
    for (;;) {
      const { sent, seen } = await this.#remind(now);
      summary.reminded += sent;
      if (seen < BATCH) break;
    }
    if (this.#lastPrune === undefined || now.getTime() - this.#lastPrune >= PRUNE_EVERY_MS) {
      summary.pruned = await pruneEvents(this.db, this.settings.eventRetentionDays, now);
      summary.prunedDeliveries = await pruneDeliveries(this.db, this.settings.eventRetentionDays, now);
      this.#lastPrune = now.getTime();
    }
    if (summary.renewed + summary.renewalsFailed + summary.expired + summary.reminded + summary.pruned + summary.prunedDeliveries > 0) {
      this.log.info({ ...summary }, 'lifecycle pass');
    }
    return summary;
  }

  /**
   * Charges the due renewals through the purchase's charging transaction. The renewal key is
   * written first; a refused charge rolls back to the savepoint after it, so the period keeps its
   * (failed) renewal and nothing else of the attempt.
   */
  async #renew(now: Date): Promise<{ charged: StatusRow[]; failed: number; seen: number }> {
    return this.db.transaction().execute(async (trx) => {
      const due = await q.dueRenewals(trx, now, this.settings.autoRenewLeadMinutes, BATCH);
      const charged: StatusRow[] = [];
      let failed = 0;
      for (const sub of due) {
        if (!(await q.claimRenewal(trx, sub.id, now))) continue;
        await q.savepoint(trx, 'renewal_charge');
        try {
          const row = await chargeActivation(
            trx,
            { id: randomUUID(), userId: sub.user_id, offerId: sub.offer_id, source: 'auto_renew' },
            this.settings.lowBalanceThreshold,
          );
          await q.settleRenewal(trx, sub.id, { transactionId: row.id });
          charged.push(row);
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          await q.rollbackTo(trx, 'renewal_charge');
          const reason: RenewalFailure = err.code === 'insufficient_balance' ? 'insufficient_balance' : 'offer_inactive';
          await q.settleRenewal(trx, sub.id, { failure: reason });
          await emitRenewalFailed(trx, {
            userId: sub.user_id,
            subscriptionId: sub.id,
            offerId: sub.offer_id,
            periodEnd: sub.expires_at,
            reason,
            message: reason === 'insufficient_balance' ? 'The balance does not cover the offer’s current price' : 'The offer is no longer sold',
            transactionId: null,
            amount: null,
          });
          failed += 1;
        }
      }
      return { charged, failed, seen: due.length };
    });
  }

  async #expire(now: Date): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = await q.expireEnded(trx, now, BATCH);
      await emit(
        trx,
        ...expired.map((s) => ({
          type: 'subscription.expired' as const,
          userId: s.user_id,
          subject: String(s.id),
          data: { subscription_id: s.id, offer_id: s.offer_id, expires_at: s.expires_at.toISOString(), auto_renew: s.auto_renew },
        })),
      );
      return expired.length;
    });
  }

  /**
   * One reminder per subscription and pass: the nearest of the due ones. Those it overtook (a
   * scheduler that was down past the 3-day mark and the 1-day mark) are recorded, not sent.
   */
  async #remind(now: Date): Promise<{ sent: number; seen: number }> {
    return this.db.transaction().execute(async (trx) => {
      const due = await q.dueReminders(trx, now, this.settings.reminderDaysBefore, BATCH);
      const bySubscription = new Map<number, q.DueReminder[]>();
      for (const r of due) bySubscription.set(r.id, [...(bySubscription.get(r.id) ?? []), r]);
      let sent = 0;
      for (const [id, reminders] of bySubscription) {
        const recorded = await q.recordReminders(trx, id, reminders.map((r) => r.days_before), now);
        if (recorded.length === 0) continue;
        const nearest = reminders.find((r) => r.days_before === Math.min(...recorded))!;
        const priceChanged = nearest.current_price !== nearest.price_paid;
        await emit(trx, {
          type: 'subscription.expiring',
          userId: nearest.user_id,
          subject: String(id),
          data: {
            subscription_id: id,
            offer_id: nearest.offer_id,
            offer_name: nearest.offer_name,
            expires_at: nearest.expires_at.toISOString(),
            days_before: nearest.days_before,
            auto_renew: nearest.auto_renew,
            offer_is_active: nearest.offer_is_active,
            price_paid: nearest.price_paid,
            current_price: nearest.current_price,
            price_changed: priceChanged,
          },
        });
        sent += 1;
      }
      return { sent, seen: due.length };
    });
  }

  start(): void {
    this.#loop.start();
  }

  /** Waits for the pass in progress, if any. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
