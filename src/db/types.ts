// Table types for Kysely. Money columns are NUMERIC and travel as decimal strings.
import type { ColumnType, Generated } from 'kysely';
import type { ActivationStatus } from '../activation/domain.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** NUMERIC read as a string ("20.00"); written as a string too, never a JS float. */
type Money = string;

export type TransactionType = 'ACTIVATION' | 'REFUND' | 'CREDIT';
export type ActivationSource = 'purchase' | 'auto_renew';
export type SubscriptionStatus = 'ACTIVE' | 'EXPIRED';
/** The activation's statuses; CREDIT and REFUND rows use SUCCESS. */
export type TransactionStatus = ActivationStatus;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  email: string | null;
  password_hash: string;
  is_admin: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  /** Set while an admin has disabled the user: no logins, no sessions. */
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AccountsTable {
  user_id: number;
  balance: ColumnType<Money, Money | undefined, Money>;
  updated_at: Timestamp;
  /** The account's own low-balance threshold; null: LOW_BALANCE_THRESHOLD. */
  low_balance_threshold: ColumnType<Money | null, Money | null | undefined, Money | null>;
  /** The threshold the balance fell below, while the alert waits to re-arm; null: armed. */
  low_balance_alerted_below: ColumnType<Money | null, Money | null | undefined, Money | null>;
}

export interface OffersTable {
  id: Generated<number>;
  name: string;
  description: string;
  price: Money;
  duration_days: number;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TransactionsTable {
  id: string;
  seq: Generated<number>;
  user_id: number;
  type: TransactionType;
  status: TransactionStatus;
  amount: Money;
  offer_id: number | null;
  /** What an ACTIVATION bought, copied from the offer at charge time; null for other types. */
  duration_days: number | null;
  related_id: string | null;
  description: string | null;
  reference: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: Generated<number>;
  lease_until: Date | null;
  next_run_at: Date | null;
  /** A request may have reached the partner: only a definite answer or the deadline settles it. */
  maybe_delivered: ColumnType<boolean, boolean | undefined, boolean>;
  /** Refunded at the deadline without a definite answer: a person checks it with the partner. */
  needs_review: ColumnType<boolean, boolean | undefined, boolean>;
  /** Who made an ACTIVATION: its user, or the lifecycle scheduler renewing a subscription; null for other types. */
  source: ActivationSource | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Date | null;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  user_id: number;
  transaction_id: string;
  amount: Money;
  balance_after: Money;
  created_at: Timestamp;
}

export interface TransactionCountsTable {
  user_id: number;
  type: TransactionType;
  status: TransactionStatus;
  n: number;
}

export interface SubscriptionsTable {
  id: Generated<number>;
  user_id: number;
  offer_id: number;
  transaction_id: string;
  activated_at: Date;
  expires_at: Date;
  status: ColumnType<SubscriptionStatus, SubscriptionStatus | undefined, SubscriptionStatus>;
  auto_renew: ColumnType<boolean, boolean | undefined, boolean>;
}

/** Reminders sent, per subscription, period end and days before it. */
export interface SubscriptionRemindersTable {
  subscription_id: number;
  period_end: Date;
  days_before: number;
  sent_at: Date;
}

/** Renewals attempted, one per subscription and period end. */
export interface SubscriptionRenewalsTable {
  subscription_id: number;
  period_end: Date;
  transaction_id: string | null;
  failure: string | null;
  created_at: Date;
}

export interface RefreshTokensTable {
  id: string;
  token_hash: string;
  family_id: string;
  user_id: number;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  user_id: number;
  key: string;
  request_hash: string;
  transaction_id: string;
  created_at: Timestamp;
}

export interface EventsTable {
  id: string;
  seq: Generated<number>;
  /** The writing transaction (xid8), as text: consumers compare it in SQL only. */
  xid: Generated<string>;
  type: string;
  user_id: number | null;
  subject: string | null;
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

export interface EventConsumersTable {
  name: string;
  last_xid: ColumnType<string, string | undefined, string>;
  last_seq: ColumnType<number, number | undefined, number>;
  lease_owner: string | null;
  lease_until: Date | null;
  updated_at: Timestamp;
}

export interface NotificationsTable {
  id: Generated<number>;
  user_id: number;
  event_id: string;
  kind: string;
  title: string;
  body: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  read_at: Date | null;
  created_at: Timestamp;
}

export type EmailDeliveryStatus = 'queued' | 'sent' | 'failed';

export interface EmailDeliveriesTable {
  id: Generated<number>;
  event_id: string;
  user_id: number;
  kind: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: ColumnType<EmailDeliveryStatus, EmailDeliveryStatus | undefined, EmailDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_until: Date | null;
  /** The SMTP server's reply (or the connection error) of the last failed attempt. */
  last_error: string | null;
  sent_at: Date | null;
  created_at: Timestamp;
}

export interface NotificationSettingsTable {
  user_id: number;
  kind: string;
  email: boolean;
  updated_at: Timestamp;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookEndpointsTable {
  id: Generated<number>;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  /** Event types, or ["*"] for all. */
  events: ColumnType<string[], string, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_id: string;
  event_type: string;
  /** The exact JSON sent, every time. */
  body: string;
  status: ColumnType<WebhookDeliveryStatus, WebhookDeliveryStatus | undefined, WebhookDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_until: Date | null;
  delivered_at: Date | null;
  created_at: Timestamp;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: Date;
  http_status: number | null;
  /** The network error or timeout, when there was no HTTP answer. */
  error: string | null;
  duration_ms: number;
  /** The first KiB of the answer. */
  response_body: string | null;
  success: boolean;
}

/** Written once, in the transaction of the change it records; the database refuses UPDATE and DELETE. */
export interface AuditLogTable {
  id: Generated<number>;
  actor: string;
  actor_id: number | null;
  action: string;
  target: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
  request_id: string | null;
  client_address: string | null;
  created_at: ColumnType<Date, undefined, never>;
}

export interface DB {
  users: UsersTable;
  accounts: AccountsTable;
  offers: OffersTable;
  transactions: TransactionsTable;
  ledger_entries: LedgerEntriesTable;
  transaction_counts: TransactionCountsTable;
  subscriptions: SubscriptionsTable;
  subscription_reminders: SubscriptionRemindersTable;
  subscription_renewals: SubscriptionRenewalsTable;
  refresh_tokens: RefreshTokensTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  event_consumers: EventConsumersTable;
  notifications: NotificationsTable;
  email_deliveries: EmailDeliveriesTable;
  notification_settings: NotificationSettingsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  audit_log: AuditLogTable;
}
