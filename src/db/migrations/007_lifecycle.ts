// The subscription lifecycle: a recorded state (ACTIVE until the scheduler marks it EXPIRED), opt-in
// auto-renewal, and what the scheduler did per period, keyed so that nothing is done twice per
// period whatever crashes or concurrent schedulers happen. A period is named by its end
// (expires_at): a renewal moves the end, so it starts a new period with its own reminders.
import { type Kysely, sql } from 'kysely';

const statements = [
  `ALTER TABLE subscriptions
     ADD COLUMN status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'EXPIRED')),
     ADD COLUMN auto_renew boolean NOT NULL DEFAULT false`,
  `UPDATE subscriptions SET status = 'EXPIRED' WHERE expires_at <= now()`,
  // The scheduler's passes look only at ACTIVE subscriptions, by end.
  `CREATE INDEX subscriptions_active_expiry ON subscriptions (expires_at) WHERE status = 'ACTIVE'`,

  `CREATE TABLE subscription_reminders (
     subscription_id integer NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
     period_end timestamptz NOT NULL,
     days_before integer NOT NULL CHECK (days_before > 0),
     sent_at timestamptz NOT NULL,
     PRIMARY KEY (subscription_id, period_end, days_before)
   )`,

  // One row per (subscription, period end), written in the renewal's charging transaction: the
  // primary key is what makes a second renewal of a period impossible. transaction_id is the
  // auto_renew activation (null when it was refused before any charge).
  `CREATE TABLE subscription_renewals (
     subscription_id integer NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
     period_end timestamptz NOT NULL,
     transaction_id uuid UNIQUE REFERENCES transactions (id),
     failure text,
     created_at timestamptz NOT NULL,
     PRIMARY KEY (subscription_id, period_end)
   )`,

  // Why an activation was made: bought by its user, or charged by the scheduler as a renewal. The
  // activation service always writes it; null (other types, or rows written by hand) reads as a purchase.
  `ALTER TABLE transactions ADD COLUMN source text CHECK (source IN ('purchase', 'auto_renew'))`,
  `UPDATE transactions SET source = 'purchase' WHERE type = 'ACTIVATION'`,

  // The low-balance alert: an account's own threshold (null: LOW_BALANCE_THRESHOLD), and the
  // threshold the balance last fell below while the alert waits to re-arm (null: armed).
  `ALTER TABLE accounts
     ADD COLUMN low_balance_threshold numeric(14, 2) CHECK (low_balance_threshold >= 0),
     ADD COLUMN low_balance_alerted_below numeric(14, 2)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
