// The baseline for activation submit: the charge transaction the API runs (see
// src/activation/service.ts and src/ledger/ledger.ts), issued directly, without HTTP, auth or
// queue: through a pg pool of the service's size, or through PGlite in this process.
import { randomUUID } from 'node:crypto';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

const INSERT_ACTIVATION =
  'insert into "transactions" ("id", "user_id", "type", "status", "amount", "offer_id", "duration_days", "next_run_at") ' +
  'select $1 as "id", $2 as "user_id", \'ACTIVATION\' as "type", \'PENDING\' as "status", "price", "offers"."id", ' +
  '"duration_days", now() as "next_run_at" from "offers" where "offers"."id" = $3 and "is_active" = $4 ' +
  'returning "id", "user_id", "status", "offer_id", "amount", "reference", "error_code", "error_message", "created_at", ' +
  '"updated_at", "completed_at"';
const MOVE_BALANCE = `
    WITH moved AS (
      UPDATE accounts SET balance = balance + $1::numeric, updated_at = now()
       WHERE user_id = $2 AND balance + $3::numeric >= 0
      RETURNING balance
    )
    INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
    SELECT $4, $5, $6::numeric, balance FROM moved
    RETURNING balance_after`;

interface Query {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

async function charge(db: Query, userId: number, offerId: number): Promise<void> {
  const id = randomUUID();
  const inserted = (await db.query(INSERT_ACTIVATION, [id, userId, offerId, true])).rows[0] as { amount: string } | undefined;
  if (!inserted) throw new Error(`offer ${offerId} not found`);
  const amount = `-${inserted.amount}`;
  const moved = await db.query(MOVE_BALANCE, [amount, userId, amount, userId, id, amount]);
  if (moved.rows.length === 0) throw new Error(`user ${userId} has too little balance`);
}

/**
 * The baseline's activations are real PENDING rows: left alone, the service's reconciler would pick
 * them up and process them while the service is being measured. They are closed as SUCCESS instead.
 */
export const CLOSE_BASELINE_ACTIVATIONS = `
    UPDATE transactions SET status = 'SUCCESS', completed_at = now(), updated_at = now()
     WHERE type = 'ACTIVATION' AND status = 'PENDING' AND user_id = ANY($1)`;

export interface ChargeResult {
  charges: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `concurrency` loops, each charging the next user in turn, for `seconds` after a warm-up. */
async function loops(
  run: (userId: number, offerId: number) => Promise<void>,
  opts: { concurrency: number; warmup: number; duration: number; userIds: number[]; offerIds: number[] },
): Promise<ChargeResult> {
  let i = 0;
  const phase = async (seconds: number, times?: number[]) => {
    const end = performance.now() + seconds * 1000;
    let errors = 0;
    let charges = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (performance.now() < end) {
          const n = i++;
          const started = performance.now();
          try {
            await run(opts.userIds[n % opts.userIds.length]!, opts.offerIds[n % opts.offerIds.length]!);
            charges++;
          } catch {
            errors++;
          }
          times?.push(performance.now() - started);
        }
      }),
    );
    return { charges, errors };
  };
  await phase(opts.warmup);
  const times: number[] = [];
  const started = performance.now();
  const { charges, errors } = await phase(opts.duration, times);
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(times).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { charges, seconds, rps: charges / seconds, p50: at(50), p99: at(99), errors };
}

type LoopOptions = Parameters<typeof loops>[1];

export async function chargeThroughPg(url: string, poolSize: number, opts: LoopOptions): Promise<ChargeResult> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  try {
    const result = await loops(async (userId, offerId) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await charge(client, userId, offerId);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
    }, opts);
    await pool.query(CLOSE_BASELINE_ACTIVATIONS, [opts.userIds]);
    return result;
  } finally {
    await pool.end();
  }
}

export async function chargeThroughPglite(pglite: PGlite, opts: LoopOptions): Promise<ChargeResult> {
  const result = await loops((userId, offerId) => pglite.transaction((tx: Transaction) => charge(tx, userId, offerId)), opts);
  await pglite.query(CLOSE_BASELINE_ACTIVATIONS, [opts.userIds]);
  return result;
}
