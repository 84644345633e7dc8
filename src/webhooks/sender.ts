// Sends the due webhook deliveries: claims them under a lease (several workers take different
// rows), POSTs each with its signature, and records every attempt through recordAttempt. A worker
// killed in the middle of a POST leaves its rows leased; when the lease runs out another sender
// takes them again, so nothing is lost and an endpoint may get an event twice (at least once).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import { PeriodicTask } from '../db/periodic-task.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import { postWebhook } from './delivery.js';
import type { ClaimedDelivery } from './queries.js';
import { claimDue } from './queries.js';
import { type AttemptOutcome, recordAttempt } from './service.js';
import { signatureHeader } from './signature.js';

export interface WebhookSenderSettings {
  timeoutMs: number;
  retryBaseMs: number;
  maxAttempts: number;
  disableAfterHours: number;
  allowPrivate: boolean;
  intervalMs: number;
  /** Deliveries sent at the same time by one sender. */
  batch: number;
}

/** Beyond the time limit of the POST, the time to record its outcome. */
const LEASE_MARGIN_MS = 5000;

export type SendSummary = Record<AttemptOutcome, number>;

export class WebhookSender {
  readonly #owner = randomUUID();
  readonly #loop: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly settings: WebhookSenderSettings,
    private readonly log: Logger,
    private readonly onCommit: () => void = () => undefined,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.#loop = new PeriodicTask(() => this.runOnce(), {
      intervalMs: settings.intervalMs,
      onError: (err) => log.warn({ err }, 'webhook sender pass failed; it will try again'),
    });
  }

  /** Sends everything due at the clock's time; returns what came of it. */
  async runOnce(): Promise<SendSummary> {
    const summary: SendSummary = { delivered: 0, retrying: 0, failed: 0, lost: 0 };
    for (;;) {
      const now = this.clock.now();
      const leaseUntil = new Date(now.getTime() + this.settings.timeoutMs + LEASE_MARGIN_MS);
      const claimed = await claimDue(this.db, this.#owner, now, leaseUntil, this.settings.batch);
      const outcomes = await Promise.all(claimed.map((delivery) => this.#send(delivery)));
      for (const outcome of outcomes) summary[outcome] += 1;
      if (claimed.length < this.settings.batch) return summary;
    }
  }

  /** The secrets that sign now: the current one, and the one before a rotation during its grace. */
  #secrets(delivery: ClaimedDelivery, now: Date): string[] {
    const previous = delivery.previous_secret;
    const graceUntil = delivery.previous_secret_expires_at;
    return previous !== null && graceUntil !== null && graceUntil > now ? [delivery.secret, previous] : [delivery.secret];
  }

  async #send(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const at = this.clock.now();
    const result = await postWebhook({
      url: delivery.url,
      body: delivery.body,
      headers: {
        'offers-event-id': delivery.event_id,
        'offers-signature': signatureHeader(this.#secrets(delivery, at), at, delivery.body),
      },
      timeoutMs: this.settings.timeoutMs,
      allowPrivate: this.settings.allowPrivate,
    });
    let recorded: Awaited<ReturnType<typeof recordAttempt>>;
    try {
      recorded = await recordAttempt(this.db, delivery, this.#owner, result, at, this.settings);
    } catch (err) {
      // The endpoint was deleted meanwhile, or the database is away: the lease runs out and, if the
      // delivery still exists, it is sent again.
      this.log.warn({ err, delivery_id: delivery.id }, 'webhook attempt could not be recorded');
      this.metrics.webhookDelivery('lost');
      return 'lost';
    }
    const { outcome, disabled } = recorded;
    this.metrics.webhookDelivery(outcome);
    if (disabled) this.metrics.webhookEndpointDisabled();
    const context = {
      delivery_id: delivery.id,
      endpoint_id: delivery.endpoint_id,
      event_id: delivery.event_id,
      attempt: delivery.attempts,
      http_status: result.httpStatus,
      error: result.error,
      duration_ms: result.durationMs,
      outcome,
    };
    if (outcome === 'delivered') this.log.debug(context, 'webhook delivered');
    else this.log.info(context, 'webhook not delivered');
    if (disabled) {
      this.log.warn({ endpoint_id: delivery.endpoint_id }, 'webhook endpoint disabled: it failed for the whole window without a success');
      this.onCommit();
    }
    return outcome;
  }

  start(): void {
    this.#loop.start();
  }

  /** Waits for the pass in progress, if any. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
