// Finds activations that nobody is working on (lost job, crashed process, Redis flushed) and
// enqueues them again, so every paid activation ends SUCCESS or FAILED + refund.
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import { logFailedPass, PeriodicTask } from '../db/periodic-task.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import type { JobQueue } from '../queue/types.js';
import { purgeIdempotencyKeys, rescheduleOverdue } from './queries.js';

const BATCH = 500;
const IDEMPOTENCY_KEY_HOURS = 48;
const PURGE_EVERY_MS = 10 * 60_000;

export class Reconciler {
  #lastPurge = 0;
  readonly #loop: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly queue: JobQueue,
    private readonly staleMs: number,
    intervalMs: number,
    private readonly log: Logger,
    private readonly metrics: Metrics = noMetrics,
  ) {
    // During an outage every pass fails the same way; the loop keeps going and catches up after it.
    this.#loop = new PeriodicTask(() => this.runOnce(), {
      intervalMs,
      onError: logFailedPass(log, {
        unavailable: 'reconciler pass skipped: database or redis unavailable',
        failed: 'reconciler pass failed',
      }),
    });
  }

  /** One pass; returns how many activations were enqueued again. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await rescheduleOverdue(this.db, this.staleMs, BATCH);
      if (ids.length > 0) this.metrics.reconcilerRequeued(ids.length);
      for (const transactionId of ids) await this.queue.enqueue({ transactionId });
      total += ids.length;
      if (ids.length < BATCH) break;
    }
    if (total > 0) this.log.warn({ count: total }, 're-enqueued unfinished activations');
    if (Date.now() - this.#lastPurge > PURGE_EVERY_MS) {
      await purgeIdempotencyKeys(this.db, IDEMPOTENCY_KEY_HOURS);
      this.#lastPurge = Date.now();
    }
    return total;
  }

  start(): void {
    this.#loop.start();
  }

  /** Waits for the pass in progress, if any. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
