// The webhooks' background work in a worker process: the fan-out consumer of the outbox and the sender.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { WebhookSettings } from '../config.js';
import type { Database } from '../db/connect.js';
import { EventConsumer } from '../events/consumer.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import { fanOutHandler, WEBHOOK_CONSUMER } from './fanout.js';
import { WebhookSender } from './sender.js';

const BATCH = 200;
const CONSUMER_LEASE_MS = 60_000;
const SENDER_BATCH = 10;

export interface Webhooks {
  fanOut: EventConsumer;
  sender: WebhookSender;
  start(): void;
  stop(): Promise<void>;
}

export function createWebhooks(db: Database, settings: WebhookSettings, clock: Clock, log: Logger, onCommit: () => void, metrics: Metrics = noMetrics): Webhooks {
  const fanOut = new EventConsumer(
    db,
    WEBHOOK_CONSUMER,
    fanOutHandler(db, clock),
    { batch: BATCH, intervalMs: settings.intervalMs, leaseMs: CONSUMER_LEASE_MS },
    log,
  );
  const sender = new WebhookSender(db, clock, { ...settings, batch: SENDER_BATCH }, log, onCommit, metrics);
  return {
    fanOut,
    sender,
    start() {
      if (settings.allowPrivate) log.warn('WEBHOOK_ALLOW_PRIVATE=true: webhooks may be sent to private and loopback addresses and over plain http');
      fanOut.start();
      sender.start();
    },
    async stop() {
      await Promise.all([fanOut.stop(), sender.stop()]);
    },
  };
}
