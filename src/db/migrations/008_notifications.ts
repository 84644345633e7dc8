// Notifications: the in-app feed, the email deliveries and each person's email preferences. Rows
// refer to the event they came from by id but not by key: the outbox is pruned, notifications stay.
import { type Kysely, sql } from 'kysely';

const statements = [
  // event_id UNIQUE makes the feed consumer idempotent: a batch handled twice adds nothing.
  `CREATE TABLE notifications (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     event_id uuid NOT NULL UNIQUE,
     kind text NOT NULL,
     title text NOT NULL,
     body text NOT NULL,
     data jsonb NOT NULL DEFAULT '{}',
     read_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX notifications_user_id ON notifications (user_id, id)`,
  `CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL`,
  // One email per event (an event has one person). The message is rendered when queued, so the
  // row shows what was sent. A sender claims a row with a lease (lease_owner, lease_until) and
  // only the holder of the lease records the outcome.
  `CREATE TABLE email_deliveries (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     event_id uuid NOT NULL UNIQUE,
     user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     kind text NOT NULL,
     recipient text NOT NULL,
     subject text NOT NULL,
     text_body text NOT NULL,
     html_body text NOT NULL,
     status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at timestamptz NOT NULL DEFAULT now(),
     lease_owner uuid,
     lease_until timestamptz,
     last_error text,
     sent_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at) WHERE status = 'queued'`,
  `CREATE INDEX email_deliveries_user ON email_deliveries (user_id, id)`,
  // Only what a person turned off or back on is stored: a missing row means the default (on).
  `CREATE TABLE notification_settings (
     user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     kind text NOT NULL,
     email boolean NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (user_id, kind)
   )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
