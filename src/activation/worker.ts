// Finishes activations in the background: claim → call the partner → SUCCESS, or FAILED + refund,
// or a retry later. Each step is a compare-and-set, so a job delivered twice changes nothing twice.
// Money goes back only on a definite answer: a rejection, or a request that never reached the
// partner. Anything the partner may have acted on is asked again until the deadline.
import type { Logger } from 'pino';
import type { StatusCache } from '../cache/status-cache.js';
import { DEFAULT_CHARGE_BATCHING } from '../config.js';
import type { Database } from '../db/connect.js';
import { type BatchLimits, GroupCommit, type Settled, settledValue } from '../db/group-commit.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import type { ActivationJob, JobQueue } from '../queue/types.js';
import type { ActivationView, FailureCode } from './domain.js';
import type { Partner, PartnerResult } from './partner.js';
import * as q from './queries.js';
import { toView } from './status.js';

export interface WorkerSettings {
  /** Calls that never reached the partner before giving up (they cannot have provisioned anything). */
  maxAttempts: number;
  retryBaseMs: number;
  /** Ceiling of one retry delay. */
  retryMaxMs: number;
  /** Time from the purchase after which an activation still unsettled is failed, refunded and flagged. */
  deadlineMs: number;
  /** How long a claim is held; past it the activation counts as abandoned. */
  leaseMs: number;
}

/** Past this many doublings every base is over any ceiling, and 2 ** n stays a finite number. */
const MAX_DOUBLINGS = 52;

/** Exponential backoff with jitter between half and the whole step, never above `maxMs`, for any attempt. */
export function retryDelay(attempt: number, settings: { baseMs: number; maxMs: number }): number {
  const doublings = Math.min(Math.max(attempt - 1, 0), MAX_DOUBLINGS);
  const step = Math.min(settings.maxMs, settings.baseMs * 2 ** doublings);
  return Math.max(1, Math.round(step / 2 + Math.random() * (step / 2)));
}

type Unsettled = Extract<PartnerResult, { outcome: 'not_sent' | 'ambiguous' }>;

/** Each id's row from a batch statement that answers only the rows it changed (undefined: not changed). */
function rowsById<R extends { id: string }>(rows: R[], ids: string[]): Settled<R | undefined>[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => settledValue(byId.get(id)));
}

export class ActivationWorker {
  /** Jobs that start together are claimed in one statement; one id never twice in one batch. */
  readonly #claims: GroupCommit<string, q.ClaimedActivation | undefined>;
  /** Successes that arrive together are recorded in one statement; one subscription once a batch. */
  readonly #successes: GroupCommit<{ id: string; reference: string; subscription: string }, q.StatusRow | undefined>;

  constructor(
    private readonly db: Database,
    private readonly partner: Partner,
    private readonly queue: JobQueue,
    private readonly cache: StatusCache<ActivationView>,
    private readonly settings: WorkerSettings,
    private readonly log: Logger,
    private readonly committed: () => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
    /** The same limits as the purchases' (CHARGE_BATCH_*). */
    batching: BatchLimits = DEFAULT_CHARGE_BATCHING,
  ) {
    const { leaseMs, deadlineMs } = settings;
    this.#claims = new GroupCommit(async (ids) => rowsById(await q.claimForProcessing(db, ids, { leaseMs, deadlineMs }), ids), {
      ...batching,
      keyOf: (id) => id,
    });
    this.#successes = new GroupCommit(
      async (answers) =>
        rowsById(
          await q.markSucceeded(db, answers.map(({ id, reference }) => ({ id, reference }))),
          answers.map(({ id }) => id),
        ),
      { ...batching, keyOf: (answer) => answer.subscription },
    );
  }

  readonly handle = async (job: ActivationJob): Promise<void> => {
    const claimed = await this.#claims.submit(job.transactionId.toLowerCase());
    if (!claimed) return; // finished already, or another worker holds it
    const log = this.log.child({ transaction_id: claimed.id, attempt: claimed.attempts });
    await this.#store(toView(claimed));

    const calledAt = performance.now();
    const result = await this.partner.activate({
      transaction_id: claimed.id,
      user_id: claimed.user_id,
      offer_id: claimed.offer_id!,
      amount: claimed.amount,
      duration_days: claimed.duration_days,
    });
    this.metrics.partnerCall(result.outcome, (performance.now() - calledAt) / 1000);

    if (result.outcome === 'success') {
      const subscription = `${claimed.user_id}:${claimed.offer_id}`;
      const done = await this.#successes.submit({ id: claimed.id, reference: result.reference, subscription });
      if (done) {
        this.committed();
        this.#finished(done);
        log.info({ reference: result.reference }, 'activation succeeded');
        await this.#store(toView(done));
      }
      return;
    }
    if (result.outcome === 'rejected') {
      await this.#fail(claimed, { code: 'partner_rejected', message: result.message, needsReview: false }, log);
      return;
    }
    await this.#unsettled(claimed, result, log);
  };

  async #unsettled(claimed: q.ClaimedActivation, result: Unsettled, log: Logger) {
    // Once any call may have reached the partner, a later refused connection proves nothing.
    const maybeDelivered = claimed.maybe_delivered || result.outcome === 'ambiguous';
    if (claimed.deadline_passed) {
      const message = maybeDelivered
        ? `Partner gave no definite answer before the deadline: ${result.message}`
        : `Partner unreachable until the deadline: ${result.message}`;
      await this.#fail(claimed, { code: 'partner_unavailable', message, needsReview: maybeDelivered }, log);
      return;
    }
    if (!maybeDelivered && claimed.attempts >= this.settings.maxAttempts) {
      const message = `Partner unreachable after ${claimed.attempts} attempts: ${result.message}`;
      await this.#fail(claimed, { code: 'partner_unavailable', message, needsReview: false }, log);
      return;
    }
    const delayMs = retryDelay(claimed.attempts, { baseMs: this.settings.retryBaseMs, maxMs: this.settings.retryMaxMs });
    const released = await q.releaseForRetry(this.db, claimed, { delayMs, lastError: result.message, maybeDelivered: result.outcome === 'ambiguous' });
    if (!released) return;
    log.warn({ outcome: result.outcome, reason: result.message, retry_in_ms: delayMs }, 'partner gave no definite answer; will ask again');
    await this.#cache(claimed.id, claimed.user_id);
    await this.queue.enqueue({ transactionId: claimed.id }, { delayMs }).catch((err: unknown) => {
      log.error({ err }, 'could not schedule the retry; the reconciler will pick it up');
    });
  }

  async #fail(claimed: q.ClaimedActivation, error: { code: FailureCode; message: string; needsReview: boolean }, log: Logger) {
    const failed = await q.markFailedAndRefund(this.db, claimed.id, error);
    if (failed) {
      this.committed();
      this.#finished(failed);
      this.metrics.refunded(error.code);
      log.warn({ code: error.code, reason: error.message, needs_review: error.needsReview }, 'activation failed; refunded');
      await this.#store(toView(failed));
    }
  }

  #finished(row: q.StatusRow) {
    const seconds = ((row.completed_at ?? row.updated_at).getTime() - row.created_at.getTime()) / 1000;
    this.metrics.activationFinished(row.status === 'SUCCESS' ? 'SUCCESS' : 'FAILED', row.source ?? 'purchase', seconds);
  }

  async #cache(id: string, userId: number) {
    const row = await q.findStatus(this.db, id, userId);
    if (row) await this.#store(toView(row));
  }

  async #store(status: ActivationView) {
    await this.cache.set(status.transaction_id, status).catch((err: unknown) => this.log.warn({ err }, 'could not cache activation status'));
  }
}
