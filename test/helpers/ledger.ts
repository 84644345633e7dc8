// Checks the money invariants straight in the database.
import { sql } from 'kysely';
import type { Database } from '../../src/db/connect.js';

/** Accounts whose balance differs from the sum of their ledger rows (should always be none). */
export async function ledgerMismatches(db: Database) {
  const result = await sql<{ user_id: number; balance: string; ledger: string }>`
    SELECT a.user_id, a.balance::text AS balance, COALESCE(SUM(l.amount), 0)::text AS ledger
      FROM accounts a LEFT JOIN ledger_entries l ON l.user_id = a.user_id
     GROUP BY a.user_id, a.balance
    HAVING a.balance <> COALESCE(SUM(l.amount), 0)`.execute(db);
  return result.rows;
}

export async function transactionsOf(db: Database, userId: number) {
  return db
    .selectFrom('transactions')
    .select(['id', 'type', 'status', 'amount', 'related_id', 'attempts', 'error_code'])
    .where('user_id', '=', userId)
    .orderBy('seq')
    .execute();
}
