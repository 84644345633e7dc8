// What a person is told about, and which event tells it. The in-app feed has every kind; email
// covers the kinds worth an email, each of which a person can turn off.
import type { EventType } from '../events/domain.js';

export const EMAIL_KINDS = [
  'activation_succeeded',
  'activation_failed',
  'subscription_expiring',
  'subscription_expired',
  'renewal_failed',
  'balance_low',
] as const;

export const NOTIFICATION_KINDS = [...EMAIL_KINDS, 'balance_credited'] as const;

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type EmailKind = (typeof EMAIL_KINDS)[number];

/**
 * The events a person sees. refund.created and subscription.activated|extended are left out: the
 * activation's own event already says what they say (the refund, the new end date).
 */
const KIND_OF_EVENT: Partial<Record<EventType, NotificationKind>> = {
  'activation.succeeded': 'activation_succeeded',
  'activation.failed': 'activation_failed',
  'subscription.expiring': 'subscription_expiring',
  'subscription.expired': 'subscription_expired',
  'subscription.renewal_failed': 'renewal_failed',
  'balance.low': 'balance_low',
  'balance.credited': 'balance_credited',
};

export function kindOfEvent(type: string): NotificationKind | undefined {
  return KIND_OF_EVENT[type as EventType];
}

export function isEmailKind(kind: string): kind is EmailKind {
  return (EMAIL_KINDS as readonly string[]).includes(kind);
}

export interface NotificationView {
  id: number;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  event_id: string;
  read: boolean;
  read_at: string | null;
  created_at: string;
}

/** Email on/off per kind; a kind nobody changed is on. */
export type EmailSettings = Record<EmailKind, boolean>;
