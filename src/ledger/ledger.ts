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

/** What LOW_BALANCE_THRESHOLD defaults to, for callers that are not handed the setting. */
export const DEFAULT_LOW_BALANCE_THRESHOLD = '5.00';

/**
 * Takes the price of an activation already written (PENDING) in this transaction from its buyer's
 * balance. Undefined: the balance does not cover it, and the caller must roll back.
 * `lowBalanceThreshold`: the default threshold of the balance.low alert (LOW_BALANCE_THRESHOLD).
 */
export async function charge(
  trx: Trx,
  activation: { id: string; user_id: number; amount: string },
  lowBalanceThreshold = DEFAULT_LOW_BALANCE_THRESHOLD,
): Promise<string | undefined> {
  const balance = await moveBalance(trx, { userId: activation.user_id, transactionId: activation.id, amount: negate(activation.amount) });
  if (balance !== undefined) await alertIfLow(trx, activation, lowBalanceThreshold);
  return balance;
}

/**
 * The balance below which an account is alerted, for the account row `account`: its own threshold
 * (or the default), or the current price of its next auto-renewal when higher.
 */
export function alertThresholdOf(account: string, defaultThreshold: string) {
  return sql<string>`GREATEST(COALESCE(${sql.ref(`${account}.low_balance_threshold`)}, ${defaultThreshold}::numeric),
                      COALESCE((SELECT o.price
                                  FROM subscriptions s JOIN offers o ON o.id = s.offer_id
                                 WHERE s.user_id = ${sql.ref(`${account}.user_id`)} AND s.status = 'ACTIVE' AND s.auto_renew AND o.is_active
                                 ORDER BY s.expires_at LIMIT 1), 0))`;
}

/**
 * balance.low, once: a compare-and-set on the account's armed state right after the debit, in its
 * transaction, so an alert is neither missed nor doubled by concurrent charges.
 */
async function alertIfLow(trx: Trx, activation: { id: string; user_id: number }, defaultThreshold: string): Promise<void> {
  const { rows } = await sql<{ balance: string; threshold: string }>`
    WITH threshold AS (
      SELECT ${alertThresholdOf('a', defaultThreshold)} AS amount
        FROM accounts a
       WHERE a.user_id = ${activation.user_id}
    )
    UPDATE accounts a SET low_balance_alerted_below = threshold.amount
      FROM threshold
     WHERE a.user_id = ${activation.user_id} AND a.low_balance_alerted_below IS NULL AND a.balance < threshold.amount
    RETURNING a.balance::text AS balance, threshold.amount::text AS threshold`.execute(trx);
  const low = rows[0];
  if (!low) return;
  await emit(trx, {
    type: 'balance.low',
    userId: activation.user_id,
    subject: activation.id,
    data: { balance: low.balance, threshold: low.threshold, transaction_id: activation.id },
  });
}

/** Money came in: the low-balance alert re-arms once the balance is back at or above the threshold it fell below. */
async function rearmIfRecovered(trx: Trx, userId: number): Promise<void> {
  await sql`
    UPDATE accounts SET low_balance_alerted_below = NULL
     WHERE user_id = ${userId} AND low_balance_alerted_below IS NOT NULL AND balance >= low_balance_alerted_below`.execute(trx);
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
  await rearmIfRecovered(trx, top.userId);
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
  await rearmIfRecovered(trx, failed.user_id);
  await emit(trx, {
    type: 'refund.created',
    userId: failed.user_id,
    subject: id,
    data: { transaction_id: id, activation_id: failed.id, offer_id: failed.offer_id, amount: failed.amount, balance, reason },
  });
  return id;
}

/** The balance right before a transaction moved it (what an audit row records as "before"). */
export async function balanceBefore(trx: Trx, transactionId: string): Promise<string | undefined> {
  const { rows } = await sql<{ before: string }>`
    SELECT (balance_after - amount)::text AS before FROM ledger_entries WHERE transaction_id = ${transactionId}`.execute(trx);
  return rows[0]?.before;
}

/** The balance right after a transaction moved it: what an idempotent replay of that movement answers. */
export async function balanceAfter(trx: Trx, transactionId: string): Promise<string | undefined> {
  const row = await trx.selectFrom('ledger_entries').select('balance_after').where('transaction_id', '=', transactionId).executeTakeFirst();
  return row?.balance_after;
}
