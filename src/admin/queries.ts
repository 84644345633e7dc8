// SQL for the admin views of users and activations.
import { type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { DB, TransactionStatus } from '../db/types.js';
import type { KeysetSlice } from '../http/pagination.js';

function usersWithBalance(db: Database) {
  return db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.user_id', 'users.id')
    .select(['users.id', 'users.username', 'users.email', 'users.is_admin', 'users.created_at', 'users.disabled_at', 'accounts.balance']);
}

export function findUserWithBalance(db: Database, id: number) {
  return usersWithBalance(db).where('users.id', '=', id).executeTakeFirst();
}

/** `search`: a prefix of the username or of the email, any case; LIKE's wildcards in it match themselves. */
export interface UserFilter {
  search?: string | undefined;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function matching<QB extends SelectQueryBuilder<DB, 'users', object>>(query: QB, filter: UserFilter): QB {
  if (filter.search === undefined) return query;
  // lower(...) LIKE 'prefix%' walks the text_pattern_ops indexes of migration 009.
  const pattern = `${escapeLike(filter.search.toLowerCase())}%`;
  return query.where((eb) =>
    eb.or([eb(sql`lower(users.username)`, 'like', pattern), eb(sql`lower(users.email)`, 'like', pattern)]),
  ) as QB;
}

export function listUsers(db: Database, slice: KeysetSlice, filter: UserFilter = {}) {
  const { after } = slice;
  return matching(usersWithBalance(db), filter)
    .$if(after !== undefined, (q) => q.where('users.id', after!.op, after!.key))
    .orderBy('users.id', slice.order)
    .limit(slice.limit)
    .execute();
}

export async function countUsers(db: Database, filter: UserFilter = {}) {
  const row = await matching(db.selectFrom('users'), filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export type UserWithBalance = NonNullable<Awaited<ReturnType<typeof findUserWithBalance>>>;

export interface ActivationFilter {
  status?: TransactionStatus | undefined;
  needsReview?: boolean | undefined;
  /** Only those created more than this many seconds ago. */
  olderThanSeconds?: number | undefined;
}

function activations(db: Database, filter: ActivationFilter) {
  return db
    .selectFrom('transactions as t')
    .where('t.type', '=', 'ACTIVATION')
    .$if(filter.status !== undefined, (q) => q.where('t.status', '=', filter.status!))
    .$if(filter.needsReview !== undefined, (q) => q.where('t.needs_review', '=', filter.needsReview!))
    .$if(filter.olderThanSeconds !== undefined, (q) =>
      q.where('t.created_at', '<', sql<Date>`now() - make_interval(secs => ${filter.olderThanSeconds!})`),
    );
}

function withBuyerAndOffer(query: ReturnType<typeof activations>) {
  return query
    .innerJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('offers as o', 'o.id', 't.offer_id')
    .select([
      't.id',
      't.seq',
      't.user_id',
      'u.username',
      't.offer_id',
      'o.name as offer_name',
      't.amount',
      't.status',
      't.attempts',
      't.reference',
      't.error_code',
      't.error_message',
      't.needs_review',
      't.next_run_at',
      't.maybe_delivered',
      't.created_at',
      't.updated_at',
      't.completed_at',
    ]);
}

/** Activations with their buyer and offer, newest first, walking the seq index (or the needs_review one). */
export function listActivations(db: Database, filter: ActivationFilter, slice: KeysetSlice) {
  const { after } = slice;
  return withBuyerAndOffer(activations(db, filter))
    .$if(after !== undefined, (q) => q.where('t.seq', after!.op, after!.key))
    .orderBy('t.seq', slice.order)
    .limit(slice.limit)
    .execute();
}

export type ActivationRow = Awaited<ReturnType<typeof listActivations>>[number];

export function findActivation(db: Database, id: string) {
  return withBuyerAndOffer(activations(db, {})).where('t.id', '=', id).executeTakeFirst();
}

/**
 * Totals come from the trigger-kept tallies; only the few activations flagged for review are
 * counted row by row (through their partial index), and the rest is the difference.
 */
export async function countActivations(db: Database, filter: ActivationFilter) {
  if (filter.olderThanSeconds !== undefined) {
    // The tallies know no ages: count the rows (a status filter keeps this to the unfinished few).
    const row = await activations(db, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  const tally = await db
    .selectFrom('transaction_counts')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('n'), eb.lit(0)).as('n'))
    .where('type', '=', 'ACTIVATION')
    .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status!))
    .executeTakeFirstOrThrow();
  const total = Number(tally.n);
  if (filter.needsReview === undefined) return total;
  const flagged = await activations(db, { status: filter.status, needsReview: true })
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return filter.needsReview ? Number(flagged.n) : total - Number(flagged.n);
}
