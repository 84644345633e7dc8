// Finishes activations in the background: claim → call the partner → SUCCESS, or FAILED + refund,
// or a retry later. Each step is a compare-and-set, so a job delivered twice changes nothing twice.
import type { Logger } from 'pino';
import type { StatusCache } from '../cache/status-cache.js';
import type { Database } from '../db/connect.js';
import type { ActivationJob, JobQueue } from '../queue/types.js';
import type { ActivationView } from './domain.js';
import type { Partner } from './partner.js';
import * as q from './queries.js';
import { toView } from './status.js';

export interface WorkerSettings {
  maxAttempts: number;
  retryBaseMs: number;
  /** How long a claim is held; past it the activation counts as abandoned. */
  leaseMs: number;
}

/** Exponential backoff with full jitter between half and the whole step. */
export function retryDelay(baseMs: number, attempt: number): number {
  const step = baseMs * 2 ** (attempt - 1);
  return Math.round(step / 2 + Math.random() * (step / 2));
}

export class ActivationWorker {
  constructor(
    private readonly db: Database,
    private readonly partner: Partner,
    private readonly queue: JobQueue,
    private readonly cache: StatusCache<ActivationView>,
    private readonly settings: WorkerSettings,
    private readonly log: Logger,
  ) {}

  readonly handle = async (job: ActivationJob): Promise<void> => {
    const claimed = await q.claimForProcessing(this.db, job.transactionId, this.settings.leaseMs);
    if (!claimed) return; // finished already, or another worker holds it
    const log = this.log.child({ transaction_id: claimed.id, attempt: claimed.attempts });
    await this.#store(toView(claimed));

    const result = await this.partner.activate({
      transaction_id: claimed.id,
      user_id: claimed.user_id,
      offer_id: claimed.offer_id!,
      amount: claimed.amount,
      duration_days: claimed.duration_days,
    });

    if (result.outcome === 'success') {
      const done = await q.markSucceeded(this.db, claimed, result.reference);
      if (done) {
        log.info({ reference: result.reference }, 'activation succeeded');
        await this.#store(toView(done));
      }
      return;
    }
    if (result.outcome === 'rejected') {
      await this.#fail(claimed, { code: 'partner_rejected', message: result.message }, log);
      return;
    }
    if (claimed.attempts >= this.settings.maxAttempts) {
      const message = `Partner unavailable after ${claimed.attempts} attempts: ${result.message}`;
      await this.#fail(claimed, { code: 'partner_unavailable', message }, log);
      return;
    }
    const delayMs = retryDelay(this.settings.retryBaseMs, claimed.attempts);
    if (await q.releaseForRetry(this.db, claimed, delayMs, result.message)) {
      log.warn({ reason: result.message, retry_in_ms: delayMs }, 'partner unavailable; will retry');
      await this.#cache(claimed.id, claimed.user_id);
      await this.queue.enqueue({ transactionId: claimed.id }, { delayMs }).catch((err: unknown) => {
        log.error({ err }, 'could not schedule the retry; the reconciler will pick it up');
      });
    }
  };

  async #fail(claimed: q.ClaimedActivation, error: { code: string; message: string }, log: Logger) {
    const failed = await q.markFailedAndRefund(this.db, claimed.id, error);
    if (failed) {
      log.warn({ code: error.code, reason: error.message }, 'activation failed; refunded');
      await this.#store(toView(failed));
    }
  }

  async #cache(id: string, userId: number) {
    const row = await q.findStatus(this.db, id, userId);
    if (row) await this.#store(toView(row));
  }

  async #store(status: ActivationView) {
    await this.cache.set(status.transaction_id, status).catch((err: unknown) => this.log.warn({ err }, 'could not cache activation status'));
  }
}
