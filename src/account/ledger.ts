// The only way a balance changes: one statement that moves the balance and writes its ledger row,
// refusing (returning undefined) when the balance would go below zero.
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/types.js';

export async function moveBalance(
  trx: Transaction<DB>,
  move: { userId: number; transactionId: string; amount: string },
): Promise<string | undefined> {
  const result = await sql<{ balance_after: string }>`
    WITH moved AS (
      UPDATE accounts SET balance = balance + ${move.amount}::numeric, updated_at = now()
       WHERE user_id = ${move.userId} AND balance + ${move.amount}::numeric >= 0
      RETURNING balance
    )
    INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
    SELECT ${move.userId}, ${move.transactionId}, ${move.amount}::numeric, balance FROM moved
    RETURNING balance_after`.execute(trx);
  return result.rows[0]?.balance_after;
}

export function negate(amount: string): string {
  return amount.startsWith('-') ? amount.slice(1) : `-${amount}`;
}
