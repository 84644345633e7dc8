// Bulk data for benchmarks, written with set-based SQL in batches. Every balance is backed by
// ledger rows (balance == sum of the ledger, balance_after == running balance), and re-running a
// seed only adds what is missing. Benchmark-only: it switches a trigger off on the live table and
// gives every user one known password, so it stays out of the shipped CLI.
import { sql } from 'kysely';
import { findUserByUsername, insertUser } from '../../src/auth/queries.js';
import { USERNAME_PATTERN } from '../../src/auth/service.js';
import type { Database } from '../../src/db/connect.js';

export const BENCH_USER_PREFIX = 'bench_user_';
export const BENCH_OFFER_PREFIX = 'Bench offer ';
export const BENCH_OFFER_PRICE = '1.00';
export const BENCH_PASSWORD = 'bench-password';
export const BENCH_BALANCE = '100.00';
export const HISTORY_AMOUNT = '0.01';
/** Rows written per database transaction. */
export const DEFAULT_BATCH = 50_000;

/** bench_user_000001 … bench_user_999999, then bench_user_1000000 …: sorts and reads well. */
export const benchUsername = (n: number) => `${BENCH_USER_PREFIX}${String(n).padStart(6, '0')}`;

export class SeedError extends Error {
  override name = 'SeedError';
}

const SEED_BALANCE_REASON = 'Benchmark seed balance';
const HISTORY_REASON = 'Benchmark history';

const COUNTS_TRIGGER = 'transaction_counts_track';

export type Progress = (done: number, total: number) => void;

const benchUsernameSql = (i: string) => sql.raw(`'${BENCH_USER_PREFIX}' || lpad(${i}::text, greatest(6, length(${i}::text)), '0')`);

/** Offers named "Bench offer 001" … priced 1.00 for 30 days; existing names are kept. */
export async function seedOffers(db: Database, count: number): Promise<{ added: number }> {
  const name = sql.raw(`'${BENCH_OFFER_PREFIX}' || lpad(i::text, greatest(3, length(i::text)), '0')`);
  const result = await sql<{ id: number }>`
    INSERT INTO offers (name, description, price, duration_days)
    SELECT wanted.name, 'Benchmark offer', ${BENCH_OFFER_PRICE}::numeric, 30
      FROM (SELECT ${name} AS name, i FROM generate_series(1, ${count}::int) AS i) AS wanted
     WHERE NOT EXISTS (SELECT 1 FROM offers WHERE offers.name = wanted.name)
     ORDER BY wanted.i
    RETURNING id`.execute(db);
  return { added: result.rows.length };
}

/**
 * Users bench_user_000001 … with one password hash for all, each with an account holding
 * `balance` through a CREDIT transaction and its ledger row. Existing usernames are skipped.
 */
export async function seedUsers(
  db: Database,
  options: { count: number; balance: string; passwordHash: string; batch: number },
  progress: Progress,
): Promise<{ created: number }> {
  let created = 0;
  for (let from = 1; from <= options.count; from += options.batch) {
    const to = Math.min(options.count, from + options.batch - 1);
    const result = await sql<{ created: number }>`
      WITH new_users AS (
        INSERT INTO users (username, password_hash)
        SELECT ${benchUsernameSql('i')}, ${options.passwordHash}
          FROM generate_series(${from}::int, ${to}::int) AS i
        ON CONFLICT DO NOTHING
        RETURNING id
      ), new_accounts AS (
        INSERT INTO accounts (user_id, balance) SELECT id, ${options.balance}::numeric FROM new_users
      ), credits AS (
        INSERT INTO transactions (id, user_id, type, status, amount, description, completed_at)
        SELECT gen_random_uuid(), id, 'CREDIT', 'SUCCESS', ${options.balance}::numeric, ${SEED_BALANCE_REASON}, now()
          FROM new_users
         WHERE ${options.balance}::numeric > 0
        RETURNING id, user_id, amount
      ), ledger AS (
        INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
        SELECT user_id, id, amount, amount FROM credits
      )
      SELECT count(*)::int AS created FROM new_users`.execute(db);
    created += result.rows[0]?.created ?? 0;
    progress(to, options.count);
  }
  return { created };
}

async function createHistoryUser(db: Database, options: { username: string; passwordHash: string }) {
  if (!new RegExp(USERNAME_PATTERN).test(options.username)) {
    throw new SeedError('username must be 3-150 letters, digits or _ . @ + -');
  }
  return db.transaction().execute((trx) =>
    insertUser(trx, { username: options.username, email: null, passwordHash: options.passwordHash, isAdmin: false }),
  );
}

/**
 * Gives `username` (created with `passwordHash` if missing) `count` small CREDIT transactions of
 * 0.01 in all, each with its ledger row; only the ones missing from an earlier run are added.
 */
export async function seedHistory(
  db: Database,
  options: { username: string; count: number; passwordHash: string; batch: number },
  progress: Progress,
): Promise<{ added: number; balance: string }> {
  const userId = (await findUserByUsername(db, options.username))?.id ?? (await createHistoryUser(db, options)).id;

  const existing = await db
    .selectFrom('transactions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('description', '=', HISTORY_REASON)
    .executeTakeFirstOrThrow();
  const missing = Math.max(0, options.count - Number(existing.n));

  for (let done = 0; done < missing; ) {
    const n = Math.min(options.batch, missing - done);
    await db.transaction().execute(async (trx) => {
      // transaction_counts is kept by a row trigger that upserts the same counter row for every
      // insert; within one database transaction each upsert walks past all earlier versions of that
      // row, so a large batch costs the square of its size, and the per-row trigger alone is most of
      // the time on PGlite. For this batch the trigger is off and the counter moves once. ALTER TABLE is transactional: other sessions never see the trigger
      // off, they only wait for the batch to commit before they write transactions.
      await sql`ALTER TABLE transactions DISABLE TRIGGER ${sql.raw(COUNTS_TRIGGER)}`.execute(trx);
      // The balance moves by the batch total while its row is locked, and each ledger row carries
      // the running balance in transaction order.
      await sql`
        WITH moved AS (
          UPDATE accounts SET balance = balance + ${n}::int * ${HISTORY_AMOUNT}::numeric, updated_at = now()
           WHERE user_id = ${userId}
          RETURNING balance - ${n}::int * ${HISTORY_AMOUNT}::numeric AS before
        ), added AS (
          INSERT INTO transactions (id, user_id, type, status, amount, description, completed_at)
          SELECT gen_random_uuid(), ${userId}, 'CREDIT', 'SUCCESS', ${HISTORY_AMOUNT}::numeric, ${HISTORY_REASON}, now()
            FROM moved, generate_series(1, ${n}::int)
          RETURNING id, seq
        )
        INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
        SELECT ${userId}, added.id, ${HISTORY_AMOUNT}::numeric,
               moved.before + ${HISTORY_AMOUNT}::numeric * row_number() OVER (ORDER BY added.seq)
          FROM added, moved
         ORDER BY added.seq`.execute(trx);
      await sql`
        INSERT INTO transaction_counts (user_id, type, status, n) VALUES (${userId}, 'CREDIT', 'SUCCESS', ${n}::int)
        ON CONFLICT (user_id, type, status) DO UPDATE SET n = transaction_counts.n + excluded.n`.execute(trx);
      await sql`ALTER TABLE transactions ENABLE TRIGGER ${sql.raw(COUNTS_TRIGGER)}`.execute(trx);
    });
    done += n;
    progress(done, missing);
  }

  const account = await db.selectFrom('accounts').select('balance').where('user_id', '=', userId).executeTakeFirstOrThrow();
  return { added: missing, balance: account.balance };
}
