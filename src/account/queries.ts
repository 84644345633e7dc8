// SQL for balances, active offers and transaction history.
import { type RawBuilder, sql } from 'kysely';
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

/** ISO 8601 in UTC with milliseconds, as Date#toISOString writes it (both truncate the microseconds). */
const iso = (column: string) => sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A subscription's dates as the API writes them. Read as text, they skip the driver's date parsing
 * and toISOString: the embedded database parses rows on its one thread, where two dates per row
 * cost about as much as running the account query itself.
 */
const subscriptionDates = [iso('subscriptions.activated_at').as('activated_at'), iso('subscriptions.expires_at').as('expires_at')] as const;

const subscriptionFields = [
  'subscriptions.id',
  ...subscriptionDates,
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
      ...subscriptionDates,
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

/**
 * A value the planner only learns when the statement runs (an InitPlan). Every page then gets the
 * same plan, so PostgreSQL keeps the prepared statement's generic plan instead of planning each call
 * anew: seeing the user id, it costs the custom plan of a user with a million rows far below the
 * generic one and never switches, and planning this statement cost as much as running it.
 */
const unseen = (value: RawBuilder<unknown>) => sql`(SELECT ${value})`;

export interface TransactionPageJson {
  /** All the rows of the filter, from the per-(user, type, status) tallies kept by a trigger. */
  count: string;
  /** Rows the slice found: one more than the page holds when more follow. */
  fetched: number;
  min_seq: string | null;
  max_seq: string | null;
  /** The page's rows as a JSON array in `displayOrder`, in the TransactionView shape. */
  results: string;
}

/**
 * One page of history in one statement: its rows written as JSON by PostgreSQL, with the count and
 * the keys the cursors need. A page is what the history endpoints serve most, and building the rows
 * here spares parsing 20 columns and 3 dates per row in JS, the objects, and the serialiser's pass.
 */
export async function transactionPageJson(
  db: Database,
  filter: TransactionFilter,
  slice: KeysetSlice,
  page: { limit: number; displayOrder: 'asc' | 'desc' },
): Promise<TransactionPageJson> {
  const { after, order } = slice;
  const { userId, status, type } = filter;
  const where = [
    // One user's page must walk the (user_id, seq) index. Written as `= user_id`, PostgreSQL drops
    // user_id from the ORDER BY and, for a user holding most rows, walks the global seq index instead,
    // skipping every newer row of other users. `= ANY(ARRAY[id])` keeps the composite order usable.
    ...(userId !== undefined ? [sql`t.user_id = ANY(${unseen(sql`ARRAY[${userId}]::int[]`)}::int[])`] : []),
    ...(status !== undefined ? [sql`t.status = ${status}`] : []),
    ...(type !== undefined ? [sql`t.type = ${type}`] : []),
    ...(after !== undefined ? [sql`t.seq ${sql.raw(after.op)} ${unseen(sql`${after.key}::bigint`)}`] : []),
  ];
  const counted = [
    ...(userId !== undefined ? [sql`c.user_id = ${unseen(sql`${userId}::int`)}`] : []),
    ...(status !== undefined ? [sql`c.status = ${status}`] : []),
    ...(type !== undefined ? [sql`c.type = ${type}`] : []),
  ];
  const direction = sql.raw(order === 'desc' ? 'DESC' : 'ASC');
  const byUser = userId !== undefined ? sql`t.user_id ${sql.raw(order === 'desc' ? 'ASC' : 'DESC')}, ` : sql``;
  const display = sql.raw(page.displayOrder === 'desc' ? 'DESC' : 'ASC');
  const { rows } = await sql<TransactionPageJson>`
    WITH slice AS (
      SELECT s.*, row_number() OVER (ORDER BY s.seq ${direction}) AS n
      FROM (
        SELECT t.id, t.seq, t.type, t.status, t.amount, t.offer_id, t.description, t.reference, t.error_code,
               t.error_message, t.related_id, t.created_at, t.updated_at, t.completed_at
        FROM transactions t
        ${where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
        ORDER BY ${byUser}t.seq ${direction}
        LIMIT ${unseen(sql`${slice.limit}::int`)}
      ) s
    )
    SELECT
      (SELECT coalesce(sum(c.n), 0) FROM transaction_counts c ${counted.length > 0 ? sql`WHERE ${sql.join(counted, sql` AND `)}` : sql``})::bigint AS count,
      (SELECT count(*) FROM slice)::int AS fetched,
      min(p.seq)::text AS min_seq,
      max(p.seq)::text AS max_seq,
      '[' || coalesce(string_agg(row_to_json(r)::text, ',' ORDER BY p.seq ${display}), '') || ']' AS results
    FROM slice p
    LEFT JOIN offers o ON o.id = p.offer_id
    -- row_to_json writes JSON as compactly as the serialiser (json_build_object adds spaces).
    CROSS JOIN LATERAL (
      SELECT
        p.id AS transaction_id,
        p.type,
        p.status,
        p.amount::text AS amount,
        CASE WHEN o.id IS NULL THEN NULL ELSE (
          SELECT row_to_json(x) FROM (
            SELECT o.id, o.name, o.description, o.price::text AS price, o.duration_days, o.is_active
          ) x
        ) END AS offer,
        p.description,
        p.reference,
        CASE WHEN coalesce(p.error_code, '') = '' THEN NULL ELSE (
          SELECT row_to_json(e) FROM (SELECT p.error_code AS code, coalesce(p.error_message, '') AS message) e
        ) END AS error,
        p.related_id AS related_transaction_id,
        ${iso('p.created_at')} AS created_at,
        ${iso('p.updated_at')} AS updated_at,
        ${iso('p.completed_at')} AS completed_at
    ) r
    WHERE p.n <= ${unseen(sql`${page.limit}::int`)}
  `.execute(db);
  return rows[0]!;
}

export function findTransaction(db: Database, id: string, userId?: number) {
  let query = transactionQuery(db).where('t.id', '=', id);
  if (userId !== undefined) query = query.where('t.user_id', '=', userId);
  return query.executeTakeFirst();
}
