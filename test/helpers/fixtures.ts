// Rows written straight to the database, for states the foundation API cannot reach on its own
// (activations, refunds, subscriptions come from the activation pipeline).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/connect.js';
import type { TransactionStatus, TransactionType } from '../../src/db/types.js';
import { credit, newOffer, newUser } from './api.js';

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

/**
 * A new user with a 30.00 credit (through the API), then one transaction of a new offer per entry
 * of `rows`, written in that order (oldest first). `ids` names each transaction, the credit included.
 */
export async function userWithTransactions<K extends string>(
  app: FastifyInstance,
  db: Database,
  rows: Record<K, { type: TransactionType; status: TransactionStatus }>,
) {
  const user = await newUser(app);
  const offer = await newOffer(app);
  const ids = { credit: (await credit(app, user.id, '30.00')).transaction_id } as Record<K | 'credit', string>;
  for (const [name, row] of Object.entries(rows) as Array<[K, { type: TransactionType; status: TransactionStatus }]>) {
    ids[name] = await insertTransaction(db, { userId: user.id, ...row, offerId: offer.id });
  }
  return { user, offer, ids };
}
