// Domain events: what happened, to whom, in the words consumers (notifications, webhooks, live
// streams) and clients read. Each is written by the transaction that made it happen (see outbox.ts).

export const EVENT_TYPES = [
  'activation.pending',
  'activation.succeeded',
  'activation.failed',
  'refund.created',
  'balance.credited',
  'balance.low',
  'subscription.activated',
  'subscription.extended',
  'subscription.expiring',
  'subscription.expired',
  'subscription.renewal_failed',
  'user.disabled',
  'user.enabled',
  'webhook.endpoint_disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface NewEvent {
  type: EventType;
  /** Whose event it is; null for events about the system itself. */
  userId: number | null;
  /** What it is about: a transaction or subscription id. */
  subject: string | null;
  /** The facts a reader needs without another request; money as decimal strings. */
  data: Record<string, unknown>;
}

export interface EventView {
  id: string;
  seq: number;
  type: string;
  user_id: number | null;
  subject: string | null;
  data: Record<string, unknown>;
  created_at: string;
}
