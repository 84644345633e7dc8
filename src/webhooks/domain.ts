// Outbound webhooks: what an endpoint subscribes to, the delivery states, the retry schedule and
// the views admins read.
import { EVENT_TYPES } from '../events/domain.js';

export const ALL_EVENTS = '*';
export const WEBHOOK_EVENT_CHOICES = [ALL_EVENTS, ...EVENT_TYPES] as const;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** How long the secret before a rotation keeps signing alongside the new one. */
export const ROTATION_GRACE_MS = 24 * 3_600_000;

/** Bytes of an answer kept in the attempt log. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export const subscribes = (events: readonly string[], type: string) => events.includes(ALL_EVENTS) || events.includes(type);

const GROWTH = 3;
const MAX_DELAY_MS = 24 * 3_600_000;
const JITTER = 0.2;

/**
 * The wait after failed attempt number `attempt` (1-based): the base, then three times longer each
 * time up to a day, each within ±20 % so that endpoints failing together do not retry together.
 * With the defaults (1 minute, 10 attempts) the attempts span about three days.
 */
export function retryDelayMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_DELAY_MS, baseMs * GROWTH ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(step * (1 - JITTER + 2 * JITTER * random())));
}

/** What one attempt came to: an HTTP answer, or an error (network, timeout, refused address). */
export interface AttemptResult {
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  responseBody: string | null;
}

export const isSuccess = (result: AttemptResult) => result.httpStatus !== null && result.httpStatus >= 200 && result.httpStatus < 300;

export interface EndpointView {
  id: number;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  last_success_at: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AttemptView {
  attempted_at: string;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  response_body: string | null;
  success: boolean;
}

export interface DeliveryView {
  id: number;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  attempt_log: AttemptView[];
}
