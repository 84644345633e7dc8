// Checks the money invariants straight in the database.
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import type { Sql } from './processes.js';

/** Accounts whose balance differs from the sum of their ledger rows (should always be none). */
export async function ledgerMismatches(db: Database) {
  const result = await sql<{ user_id: number; balance: string; ledger: string }>`
    SELECT a.user_id, a.balance::text AS balance, COALESCE(SUM(l.amount), 0)::text AS ledger
      FROM accounts a LEFT JOIN ledger_entries l ON l.user_id = a.user_id
     GROUP BY a.user_id, a.balance
    HAVING a.balance <> COALESCE(SUM(l.amount), 0)`.execute(db);
  return result.rows;
}

// Each rule is one query returning a readable line per row that breaks it. A balanced ledger is not
// enough: a second refund written with its own ledger row keeps balance = Σ ledger and still loses
// money, so the rules tie the ledger to the transactions that justify it.
const MONEY_RULES = [
  // Money enters only as credits and leaves only as kept charges: Σ credits = balance + Σ non-FAILED
  // activations, per account (so in total too). PENDING and PROCESSING activations are charged already.
  `SELECT 'user ' || a.user_id || ': credits ' || COALESCE(t.credits, 0) || ' <> balance ' || a.balance
          || ' + kept charges ' || COALESCE(t.kept, 0) || ' (off by ' || (COALESCE(t.credits, 0) - a.balance - COALESCE(t.kept, 0)) || ')' AS problem
     FROM accounts a
     LEFT JOIN (SELECT user_id,
                       SUM(amount) FILTER (WHERE type = 'CREDIT') AS credits,
                       SUM(amount) FILTER (WHERE type = 'ACTIVATION' AND status <> 'FAILED') AS kept
                  FROM transactions GROUP BY user_id) t ON t.user_id = a.user_id
    WHERE COALESCE(t.credits, 0) <> a.balance + COALESCE(t.kept, 0)`,
  `SELECT 'transactions of user ' || t.user_id || ' who has no account' AS problem
     FROM transactions t LEFT JOIN accounts a ON a.user_id = t.user_id
    WHERE a.user_id IS NULL GROUP BY t.user_id`,

  // Exactly one refund per FAILED activation, none for any other, for the same user and amount.
  `SELECT 'activation ' || a.id || ' (' || a.status || ', user ' || a.user_id || ') has ' || count(r.id) || ' refunds' AS problem
     FROM transactions a LEFT JOIN transactions r ON r.type = 'REFUND' AND r.related_id = a.id
    WHERE a.type = 'ACTIVATION'
    GROUP BY a.id, a.status, a.user_id
   HAVING count(r.id) <> CASE WHEN a.status = 'FAILED' THEN 1 ELSE 0 END`,
  `SELECT 'refund ' || r.id || ' of ' || r.amount || ' to user ' || r.user_id || ' is not the refund of a FAILED activation'
          || COALESCE(' (related to ' || a.type || ' ' || a.status || ' of ' || a.amount || ' for user ' || a.user_id || ')', ' (related to nothing)') AS problem
     FROM transactions r LEFT JOIN transactions a ON a.id = r.related_id
    WHERE r.type = 'REFUND'
      AND (a.id IS NULL OR a.type <> 'ACTIVATION' OR a.status <> 'FAILED' OR a.user_id <> r.user_id OR a.amount <> r.amount)`,

  // Ledger rows 1:1 with the money-moving transactions, signed by type: a CREDIT and a REFUND add
  // their amount, an ACTIVATION takes it (charged at acceptance, whatever happened to it later).
  `SELECT t.type || ' ' || t.id || ' (' || t.status || ', ' || t.amount || ', user ' || t.user_id || ') has ledger rows ['
          || COALESCE(string_agg(l.amount::text || ' for user ' || l.user_id, ', ' ORDER BY l.id), '') || '], expected exactly one of '
          || CASE WHEN t.type = 'ACTIVATION' THEN -t.amount ELSE t.amount END AS problem
     FROM transactions t LEFT JOIN ledger_entries l ON l.transaction_id = t.id
    GROUP BY t.id, t.type, t.status, t.amount, t.user_id
   HAVING count(l.id) <> 1
       OR min(l.amount) <> CASE WHEN t.type = 'ACTIVATION' THEN -t.amount ELSE t.amount END
       OR bool_or(l.user_id <> t.user_id)`,
  `SELECT t.type || ' ' || t.id || ' is ' || t.status || '; credits and refunds are written SUCCESS' AS problem
     FROM transactions t WHERE t.type IN ('CREDIT', 'REFUND') AND t.status <> 'SUCCESS'`,

  // Each account's ledger adds up: to its balance, and row by row to each balance_after.
  `SELECT 'user ' || a.user_id || ': balance ' || a.balance || ' <> ledger sum ' || COALESCE(SUM(l.amount), 0) AS problem
     FROM accounts a LEFT JOIN ledger_entries l ON l.user_id = a.user_id
    GROUP BY a.user_id, a.balance
   HAVING a.balance <> COALESCE(SUM(l.amount), 0)`,
  `SELECT 'ledger row ' || id || ' of user ' || user_id || ': balance_after ' || balance_after || ' <> running sum ' || running AS problem
     FROM (SELECT id, user_id, balance_after, SUM(amount) OVER (PARTITION BY user_id ORDER BY id) AS running
             FROM ledger_entries) l
    WHERE balance_after <> running`,
];

/**
 * Every way the stored money disagrees with itself, as readable lines (none when all is well).
 * Takes the app's Kysely database or the read-only connection of the process tests.
 */
export async function moneyDiscrepancies(db: Database | Sql): Promise<string[]> {
  const problems: string[] = [];
  // One query at a time: the process tests' connection answers one at a time.
  for (const rule of MONEY_RULES) {
    const rows =
      'rows' in db
        ? await db.rows<{ problem: string }>(rule)
        : (await sql.raw<{ problem: string }>(rule).execute(db)).rows;
    problems.push(...rows.map((r) => r.problem));
  }
  return problems;
}

export async function expectMoneyBalanced(db: Database | Sql): Promise<void> {
  expect(await moneyDiscrepancies(db), 'the money in the database does not add up').toEqual([]);
}

export async function transactionsOf(db: Database, userId: number) {
  return db
    .selectFrom('transactions')
    .select(['id', 'type', 'status', 'amount', 'related_id', 'attempts', 'error_code'])
    .where('user_id', '=', userId)
    .orderBy('seq')
    .execute();
}
