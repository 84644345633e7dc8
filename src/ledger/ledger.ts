// The only way money moves. Every movement is a transactions row plus one ledger row written by a
// single statement that also moves the balance and refuses to take it below zero; callers pass the
// database transaction so the movement commits or rolls back with the change it belongs to.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/types.js';
import { emit } from '../events/outbox.js';

type Trx = Transaction<DB>;

/** Adds a signed amount to a balance and writes its ledger row; undefined when it would go below zero (or no account). */
async function moveBalance(trx: Trx, move: { userId: number; transactionId: string; amount: string }): Promise<string | undefined> {
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

const negate = (amount: string) => (amount.startsWith('-') ? amount.slice(1) : `-${amount}`);

/**
 * Takes the price of an activation already written (PENDING) in this transaction from its buyer's
 * balance. Undefined: the balance does not cover it, and the caller must roll back.
 */
export function charge(trx: Trx, activation: { id: string; user_id: number; amount: string }): Promise<string | undefined> {
  return moveBalance(trx, { userId: activation.user_id, transactionId: activation.id, amount: negate(activation.amount) });
}

/** A top-up: a CREDIT transaction and its ledger row. Undefined when the user has no account. */
export async function credit(
  trx: Trx,
  top: { id?: string; userId: number; amount: string; description: string },
): Promise<{ transaction_id: string; balance: string } | undefined> {
  const id = top.id ?? randomUUID();
  const account = await trx.selectFrom('accounts').select('user_id').where('user_id', '=', top.userId).executeTakeFirst();
  if (!account) return undefined;
  await trx
    .insertInto('transactions')
    .values({
      id,
      user_id: top.userId,
      type: 'CREDIT',
      status: 'SUCCESS',
      amount: top.amount,
      description: top.description,
      completed_at: sql<Date>`now()`,
    })
    .execute();
  const balance = await moveBalance(trx, { userId: top.userId, transactionId: id, amount: top.amount });
  if (balance === undefined) throw new Error(`credit of user ${top.userId} moved no balance`);
  await emit(trx, {
    type: 'balance.credited',
    userId: top.userId,
    subject: id,
    data: { transaction_id: id, amount: top.amount, balance, description: top.description },
  });
  return { transaction_id: id, balance };
}

/**
 * Gives back what a failed activation took: a REFUND transaction related to it and its ledger row.
 * The partial unique index transactions_one_refund makes a second refund of one activation fail.
 */
export async function refund(
  trx: Trx,
  failed: { id: string; user_id: number; amount: string; offer_id: number | null },
  reason: string,
): Promise<string> {
  const id = randomUUID();
  await trx
    .insertInto('transactions')
    .values({
      id,
      user_id: failed.user_id,
      type: 'REFUND',
      status: 'SUCCESS',
      amount: failed.amount,
      offer_id: failed.offer_id,
      related_id: failed.id,
      description: `Refund of failed activation: ${reason}`.slice(0, 500),
      completed_at: sql<Date>`now()`,
    })
    .execute();
  const balance = await moveBalance(trx, { userId: failed.user_id, transactionId: id, amount: failed.amount });
  if (balance === undefined) throw new Error(`refund of ${failed.id} found no account`);
  await emit(trx, {
    type: 'refund.created',
    userId: failed.user_id,
    subject: id,
    data: { transaction_id: id, activation_id: failed.id, offer_id: failed.offer_id, amount: failed.amount, balance, reason },
  });
  return id;
}

/** The balance right after a transaction moved it: what an idempotent replay of that movement answers. */
export async function balanceAfter(trx: Trx, transactionId: string): Promise<string | undefined> {
  const row = await trx.selectFrom('ledger_entries').select('balance_after').where('transaction_id', '=', transactionId).executeTakeFirst();
  return row?.balance_after;
}
