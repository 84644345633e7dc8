// Outbound webhooks: the endpoints admins register, one delivery per (endpoint, event) and a log of
// every attempt. Deliveries keep their own copy of the body, so a redelivery sends the same bytes
// after the outbox has been pruned; they name the event by id but not by key for the same reason.
import { type Kysely, sql } from 'kysely';

const statements = [
  // previous_secret signs alongside secret until previous_secret_expires_at (a rotation's grace).
  // failing_since: the first failed attempt since the last success; the disable window counts from it.
  `CREATE TABLE webhook_endpoints (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     url text NOT NULL,
     description text NOT NULL DEFAULT '',
     events jsonb NOT NULL,
     enabled boolean NOT NULL DEFAULT true,
     disabled_reason text,
     secret text NOT NULL,
     previous_secret text,
     previous_secret_expires_at timestamptz,
     failing_since timestamptz,
     last_success_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  // UNIQUE (endpoint_id, event_id) makes the fan-out consumer idempotent. A sender claims a row with
  // a lease (lease_owner, lease_until) and only the holder of the lease records the outcome.
  `CREATE TABLE webhook_deliveries (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     endpoint_id integer NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
     event_id uuid NOT NULL,
     event_type text NOT NULL,
     body text NOT NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at timestamptz NOT NULL DEFAULT now(),
     lease_owner uuid,
     lease_until timestamptz,
     delivered_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (endpoint_id, event_id)
   )`,
  `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
  `CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)`,
  `CREATE TABLE webhook_attempts (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     delivery_id integer NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
     attempted_at timestamptz NOT NULL,
     http_status integer,
     error text,
     duration_ms integer NOT NULL,
     response_body text,
     success boolean NOT NULL
   )`,
  `CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
