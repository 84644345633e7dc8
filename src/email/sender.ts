// Sends the queued emails: claims due deliveries under a lease, sends each once per attempt and
// records `sent`, a retry with a growing delay, or `failed` with the SMTP reply. A 5xx reply fails
// at once; anything else is retried until the attempts run out. SMTP has no way to tell whether a
// message got through when a process dies between the server's "250" and the record, so delivery
// is at least once: the Message-ID stays the same so such a repeat can be recognised.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import { PeriodicTask } from '../db/periodic-task.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import * as q from './queries.js';
import { isPermanent, type MailTransport, smtpFailure } from './smtp.js';

export interface SenderSettings {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Longer than one SMTP conversation can take, so a live sender never loses its row. */
  leaseMs: number;
  intervalMs: number;
  batch: number;
  /** The domain of the Message-IDs (MAIL_FROM's). */
  messageIdDomain: string;
}

export interface SendOutcome {
  sent: number;
  retried: number;
  failed: number;
}

export class EmailSender {
  readonly #owner = randomUUID();
  readonly #loop: PeriodicTask;

  constructor(
    private readonly db: Database,
    private readonly transport: MailTransport,
    private readonly settings: SenderSettings,
    private readonly log: Logger,
    private readonly metrics: Metrics = noMetrics,
  ) {
    this.#loop = new PeriodicTask(() => this.runOnce(), {
      intervalMs: settings.intervalMs,
      onError: (err) => log.warn({ err }, 'email sender pass failed; it will try again'),
    });
  }

  retryDelayMs(attempts: number): number {
    return Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
  }

  /** Sends everything due at `now`; `now` is a parameter so tests move time instead of waiting. */
  async runOnce(now: Date = new Date()): Promise<SendOutcome> {
    const outcome: SendOutcome = { sent: 0, retried: 0, failed: 0 };
    for (;;) {
      const claimed = await q.claimDue(this.db, this.#owner, now, new Date(now.getTime() + this.settings.leaseMs), this.settings.batch);
      for (const delivery of claimed) {
        const result = await this.#deliver(delivery, now);
        outcome[result] += 1;
        this.metrics.emailAttempt(result);
      }
      if (claimed.length < this.settings.batch) return outcome;
    }
  }

  async #deliver(delivery: q.ClaimedDelivery, now: Date): Promise<keyof SendOutcome> {
    try {
      await this.transport.send({
        to: delivery.recipient,
        subject: delivery.subject,
        text: delivery.text_body,
        html: delivery.html_body,
        messageId: `<${delivery.event_id}@${this.settings.messageIdDomain}>`,
      });
    } catch (err) {
      const failure = smtpFailure(err);
      const context = { delivery_id: delivery.id, attempts: delivery.attempts, smtp_code: failure.code, reply: failure.reply };
      if (isPermanent(failure) || delivery.attempts >= this.settings.maxAttempts) {
        this.log.warn(context, 'email not delivered; giving up');
        await q.markFailed(this.db, delivery.id, this.#owner, failure.reply);
        return 'failed';
      }
      this.log.info(context, 'email not delivered yet; it will be retried');
      await q.scheduleRetry(this.db, delivery.id, this.#owner, failure.reply, new Date(now.getTime() + this.retryDelayMs(delivery.attempts)));
      return 'retried';
    }
    await q.markSent(this.db, delivery.id, this.#owner, now);
    return 'sent';
  }

  start(): void {
    this.#loop.start();
  }

  /** Waits for the pass in progress, if any. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
