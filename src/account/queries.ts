// SQL for balances, active offers and transaction history.
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { SubscriptionStatus, TransactionStatus, TransactionType } from '../db/types.js';
import type { KeysetSlice } from '../http/pagination.js';

export interface TransactionFilter {
  userId?: number | undefined;
  status?: TransactionStatus | undefined;
  type?: TransactionType | undefined;
}

export function findAccount(db: Database, userId: number) {
  return db
    .selectFrom('accounts')
    .innerJoin('users', 'users.id', 'accounts.user_id')
    .select(['users.username', 'accounts.balance'])
    .where('accounts.user_id', '=', userId)
    .executeTakeFirst();
}

const offerFields = [
  'offers.id as offer_id',
  'offers.name as offer_name',
  'offers.description as offer_description',
  'offers.price as offer_price',
  'offers.duration_days as offer_duration_days',
  'offers.is_active as offer_is_active',
] as const;

const subscriptionFields = [
  'subscriptions.id',
  'subscriptions.activated_at',
  'subscriptions.expires_at',
  'subscriptions.transaction_id',
  'subscriptions.status',
  'subscriptions.auto_renew',
  ...offerFields,
] as const;

/** Which subscriptions a list shows: those not yet ended (the default), or those in a recorded lifecycle status. */
export interface SubscriptionFilter {
  status?: SubscriptionStatus | undefined;
  expiringWithinDays?: number | undefined;
}

/** Active subscriptions, optionally only those expiring within `expiringWithinDays`; or those of a lifecycle status. */
function activeSubscriptions(db: Database, userId: number, filter: SubscriptionFilter = {}) {
  const { status, expiringWithinDays } = filter;
  return db
    .selectFrom('subscriptions')
    .where('subscriptions.user_id', '=', userId)
    .$if(status !== undefined, (q) => q.where('subscriptions.status', '=', status!))
    .$if(status === undefined, (q) => q.where('subscriptions.expires_at', '>', sql<Date>`now()`))
    .$if(expiringWithinDays !== undefined, (q) =>
      q.where('subscriptions.expires_at', '<=', sql<Date>`now() + make_interval(days => ${expiringWithinDays})`),
    );
}

/**
 * The account with its active subscriptions in one round trip: one row per subscription, or one
 * row with null subscription columns when there is none; no row when there is no account.
 */
export function findAccountWithActiveOffers(db: Database, userId: number) {
  return db
    .selectFrom('accounts')
    .innerJoin('users', 'users.id', 'accounts.user_id')
    .leftJoin('subscriptions', (join) =>
      join.onRef('subscriptions.user_id', '=', 'accounts.user_id').on('subscriptions.expires_at', '>', sql<Date>`now()`),
    )
    .leftJoin('offers', 'offers.id', 'subscriptions.offer_id')
    .select([
      'users.username',
      'accounts.balance',
      'subscriptions.id',
      'subscriptions.activated_at',
      'subscriptions.expires_at',
      'subscriptions.transaction_id',
      ...offerFields,
    ])
    .where('accounts.user_id', '=', userId)
    .orderBy('subscriptions.expires_at')
    .orderBy('subscriptions.id')
    .execute();
}

export function listActiveSubscriptions(db: Database, userId: number, slice?: KeysetSlice, filter?: SubscriptionFilter) {
  const query = activeSubscriptions(db, userId, filter)
    .innerJoin('offers', 'offers.id', 'subscriptions.offer_id')
    .select(subscriptionFields);
  if (!slice) return query.orderBy('subscriptions.expires_at').orderBy('subscriptions.id').execute();
  const { after } = slice;
  return query
    .$if(after !== undefined, (q) => q.where('subscriptions.id', after!.op, after!.key))
    .orderBy('subscriptions.id', slice.order)
    .limit(slice.limit)
    .execute();
}

export async function countActiveSubscriptions(db: Database, userId: number, filter?: SubscriptionFilter) {
  const row = await activeSubscriptions(db, userId, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export type SubscriptionRow = Awaited<ReturnType<typeof listActiveSubscriptions>>[number];

export function findSubscription(db: Database, userId: number, id: number) {
  return db
    .selectFrom('subscriptions')
    .innerJoin('offers', 'offers.id', 'subscriptions.offer_id')
    .select(subscriptionFields)
    .where('subscriptions.user_id', '=', userId)
    .where('subscriptions.id', '=', id)
    .executeTakeFirst();
}

/** Turns auto-renewal on or off for one of the user's subscriptions; false when it is not theirs. */
export async function setAutoRenew(db: Database, userId: number, id: number, autoRenew: boolean): Promise<boolean> {
  const result = await db
    .updateTable('subscriptions')
    .set({ auto_renew: autoRenew })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

function transactionQuery(db: Database) {
  return db
    .selectFrom('transactions as t')
    .leftJoin('offers', 'offers.id', 't.offer_id')
    .select([
      't.id',
      't.seq',
      't.user_id',
      't.type',
      't.status',
      't.amount',
      't.description',
      't.reference',
      't.error_code',
      't.error_message',
      't.related_id',
      't.created_at',
      't.updated_at',
      't.completed_at',
      ...offerFields,
    ]);
}

export type TransactionRow = Awaited<ReturnType<ReturnType<typeof transactionQuery>['execute']>>[number];

export function listTransactions(db: Database, filter: TransactionFilter, slice: KeysetSlice) {
  const { after, order } = slice;
  const { userId } = filter;
  return transactionQuery(db)
    // One user's page must walk the (user_id, seq) index. Written as `= user_id`, PostgreSQL drops
    // user_id from the ORDER BY and, for a user holding most rows, walks the global seq index instead,
    // skipping every newer row of other users. `= ANY(ARRAY[id])` keeps the composite order usable.
    .$if(userId !== undefined, (q) =>
      q
        .where(sql<boolean>`t.user_id = ANY(ARRAY[${userId}]::int[])`)
        .orderBy('t.user_id', order === 'desc' ? 'asc' : 'desc'),
    )
    .$if(filter.status !== undefined, (q) => q.where('t.status', '=', filter.status as TransactionStatus))
    .$if(filter.type !== undefined, (q) => q.where('t.type', '=', filter.type as TransactionType))
    .$if(after !== undefined, (q) => q.where('t.seq', after!.op, after!.key))
    .orderBy('t.seq', order)
    .limit(slice.limit)
    .execute();
}

export function findTransaction(db: Database, id: string, userId?: number) {
  let query = transactionQuery(db).where('t.id', '=', id);
  if (userId !== undefined) query = query.where('t.user_id', '=', userId);
  return query.executeTakeFirst();
}

/** Counts come from the per-(user, type, status) tallies kept by a trigger, not from scanning history. */
export async function countTransactions(db: Database, filter: TransactionFilter) {
  const row = await db
    .selectFrom('transaction_counts')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('n'), eb.lit(0)).as('n'))
    .$if(filter.userId !== undefined, (q) => q.where('user_id', '=', filter.userId as number))
    .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status as TransactionStatus))
    .$if(filter.type !== undefined, (q) => q.where('type', '=', filter.type as TransactionType))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
