// The notifications' background work in a worker process: the feed consumer always, and with
// SMTP_URL the email consumer and the email sender.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/connect.js';
import { EmailSender } from '../email/sender.js';
import { type MailTransport, smtpTransport } from '../email/smtp.js';
import { EventConsumer } from '../events/consumer.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import { EMAIL_CONSUMER, emailQueueHandler } from './email-queue.js';
import { FEED_CONSUMER, feedHandler } from './feed.js';

const BATCH = 200;
const CONSUMER_LEASE_MS = 60_000;
const SENDER_BATCH = 20;

export interface Notifications {
  feed: EventConsumer;
  /** Undefined without SMTP_URL: then nothing is queued or sent. */
  email: { queue: EventConsumer; sender: EmailSender } | undefined;
  start(): void;
  stop(): Promise<void>;
  close(): void;
}

export function createNotifications(
  db: Database,
  config: Config,
  log: Logger,
  transport?: MailTransport,
  metrics: Metrics = noMetrics,
): Notifications {
  const ctx = { currency: config.currency };
  const consumerSettings = { batch: BATCH, intervalMs: config.notificationsIntervalMs, leaseMs: CONSUMER_LEASE_MS };
  const feed = new EventConsumer(db, FEED_CONSUMER, feedHandler(db, ctx), consumerSettings, log);

  let email: Notifications['email'];
  let mail: MailTransport | undefined;
  if (config.smtpUrl && config.mailFrom) {
    mail = transport ?? smtpTransport(config.smtpUrl, config.mailFrom, config.smtpTimeoutMs);
    email = {
      queue: new EventConsumer(db, EMAIL_CONSUMER, emailQueueHandler(db, ctx), consumerSettings, log),
      sender: new EmailSender(db, mail, {
        maxAttempts: config.emailMaxAttempts,
        retryBaseMs: config.emailRetryBaseMs,
        retryMaxMs: config.emailRetryMaxMs,
        // Connecting, the greeting and each reply get the timeout; twice their sum covers a slow server.
        leaseMs: 6 * config.smtpTimeoutMs,
        intervalMs: config.notificationsIntervalMs,
        batch: SENDER_BATCH,
        messageIdDomain: config.mailFrom.replace(/^.*@/, '').replace(/>.*$/, '') || 'localhost',
      }, log, metrics),
    };
  }

  return {
    feed,
    email,
    // Said when the work starts, so a CLI command or an API-only process does not repeat it.
    start() {
      if (config.smtpUrl) log.info({ smtp: new URL(config.smtpUrl).host, from: config.mailFrom }, 'email notifications are on');
      else log.info('email notifications are off: SMTP_URL is not set (the in-app feed still works)');
      feed.start();
      email?.queue.start();
      email?.sender.start();
    },
    async stop() {
      await Promise.all([feed.stop(), email?.queue.stop(), email?.sender.stop()]);
    },
    close() {
      mail?.close();
    },
  };
}
