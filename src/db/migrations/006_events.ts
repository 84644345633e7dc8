// The outbox: domain events written in the same transaction as the change they describe, and the
// stored positions of the consumers that read them (notifications, webhooks, live streams).
import { type Kysely, sql } from 'kysely';

const statements = [
  // xid is the writing transaction's id. seq is handed out at insert, not at commit, so reading by
  // seq alone could pass over an event whose transaction commits late; consumers read in
  // (xid, seq) order, and only events of transactions that have ended.
  `CREATE TABLE events (
     id uuid PRIMARY KEY,
     seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
     xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
     type text NOT NULL,
     user_id integer REFERENCES users (id) ON DELETE CASCADE,
     subject text,
     data jsonb NOT NULL DEFAULT '{}',
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX events_delivery_order ON events (xid, seq)`,
  `CREATE INDEX events_user_seq ON events (user_id, seq)`,
  `CREATE INDEX events_type_seq ON events (type, seq)`,
  `CREATE INDEX events_created ON events (created_at)`,
  // One row per consumer: how far it has read, and which process holds it (a lease, so several
  // workers can run the same consumer without handling an event twice at the same time).
  `CREATE TABLE event_consumers (
     name text PRIMARY KEY,
     last_xid xid8 NOT NULL DEFAULT '0',
     last_seq bigint NOT NULL DEFAULT 0,
     lease_owner uuid,
     lease_until timestamptz,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
