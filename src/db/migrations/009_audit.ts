// The audit trail of admin actions, and users an admin can disable. Audit rows are written in the
// transaction of the change they record and can never be changed, deleted or truncated away: the
// triggers refuse it, as they do for ledger_entries. No foreign keys: a row outlives its actor and
// its target. Filters walk (column, id) indexes newest first, like every other list.
import { type Kysely, sql } from 'kysely';

const statements = [
  `CREATE TABLE audit_log (
     id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     actor text NOT NULL,
     actor_id integer,
     action text NOT NULL,
     target text NOT NULL,
     before jsonb,
     after jsonb,
     request_id text,
     client_address text,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX audit_log_actor ON audit_log (actor, id)`,
  `CREATE INDEX audit_log_action ON audit_log (action, id)`,
  `CREATE INDEX audit_log_target ON audit_log (target, id)`,
  `CREATE INDEX audit_log_created_at ON audit_log (created_at)`,
  `CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION 'audit rows are immutable';
   END $$`,
  `CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
   FOR EACH ROW EXECUTE FUNCTION audit_log_immutable()`,
  `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
   FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable()`,

  // A disabled user cannot log in or refresh; their sessions are revoked when it is set.
  `ALTER TABLE users ADD COLUMN disabled_at timestamptz`,
  // The admin user search matches prefixes of the lowercased username or email through these.
  `CREATE INDEX users_username_prefix ON users (lower(username) text_pattern_ops)`,
  `CREATE INDEX users_email_prefix ON users (lower(email) text_pattern_ops)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
