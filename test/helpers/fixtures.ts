// Rows written straight to the database, for states the foundation API cannot reach on its own
// (activations, refunds, subscriptions come from the activation pipeline).
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/connect.js';
import type { TransactionStatus, TransactionType } from '../../src/db/types.js';

export async function insertTransaction(
  db: Database,
  row: { userId: number; type: TransactionType; status: TransactionStatus; amount?: string; offerId?: number | null },
): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('transactions')
    .values({
      id,
      user_id: row.userId,
      type: row.type,
      status: row.status,
      amount: row.amount ?? '10.00',
      offer_id: row.offerId ?? null,
      duration_days: row.type === 'ACTIVATION' ? 30 : null,
      completed_at: row.status === 'SUCCESS' || row.status === 'FAILED' ? new Date() : null,
    })
    .execute();
  return id;
}

/** A successful activation and the subscription it bought, ending `daysLeft` days from now (negative: expired). */
export async function insertSubscription(db: Database, row: { userId: number; offerId: number; daysLeft: number; amount?: string }) {
  const transactionId = await insertTransaction(db, { userId: row.userId, type: 'ACTIVATION', status: 'SUCCESS', offerId: row.offerId, amount: row.amount });
  const day = 24 * 3600 * 1000;
  const activatedAt = new Date(Date.now() - day);
  const expiresAt = new Date(Date.now() + row.daysLeft * day);
  await db
    .insertInto('subscriptions')
    .values({ user_id: row.userId, offer_id: row.offerId, transaction_id: transactionId, activated_at: activatedAt, expires_at: expiresAt })
    .execute();
  return { transactionId, activatedAt, expiresAt };
}
