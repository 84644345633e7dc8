// Revoked sessions are reloaded by every API process at start, on each Redis reconnection and every
// few seconds (`revoked_at` in the last access-token lifetime), and old refresh tokens are purged
// (`expires_at`/`revoked_at` long past): both read these instead of the whole table. logout-all
// revokes every session of one user through the user index.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX refresh_tokens_revoked_at ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL`.execute(db);
  await sql`CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)`.execute(db);
  await sql`CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL`.execute(db);
}
