// SQL of the lifecycle scheduler. "now" is always a parameter (the injected clock), never now().
// Each step takes its rows with FOR UPDATE SKIP LOCKED, so concurrent schedulers split the work,
// and changes them by compare-and-set (status, or an insert on a per-period key), so a step run
// twice changes nothing twice.
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db/types.js';

type Trx = Transaction<DB>;

const dayArray = (days: number[]) => sql`string_to_array(${days.join(',')}, ',')::int[]`;

/** ACTIVE → EXPIRED for periods that ended by `now`. */
export async function expireEnded(trx: Trx, now: Date, limit: number) {
  const { rows } = await sql<{ id: number; user_id: number; offer_id: number; expires_at: Date; auto_renew: boolean }>`
    UPDATE subscriptions SET status = 'EXPIRED'
     WHERE id IN (SELECT id FROM subscriptions
                   WHERE status = 'ACTIVE' AND expires_at <= ${now}
                   ORDER BY expires_at
                   LIMIT ${limit}
                   FOR UPDATE SKIP LOCKED)
       AND status = 'ACTIVE'
    RETURNING id, user_id, offer_id, expires_at, auto_renew`.execute(trx);
  return rows;
}

export interface DueReminder {
  id: number;
  user_id: number;
  offer_id: number;
  offer_name: string;
  offer_is_active: boolean;
  expires_at: Date;
  auto_renew: boolean;
  current_price: string;
  price_paid: string;
  days_before: number;
}

/** (subscription, days before) pairs whose reminder time has come in the current period and that were not sent. */
export async function dueReminders(trx: Trx, now: Date, daysBefore: number[], limit: number): Promise<DueReminder[]> {
  if (daysBefore.length === 0) return [];
  const { rows } = await sql<DueReminder>`
    SELECT s.id, s.user_id, s.offer_id, o.name AS offer_name, o.is_active AS offer_is_active, s.expires_at, s.auto_renew,
           o.price::text AS current_price, t.amount::text AS price_paid, d.days AS days_before
      FROM subscriptions s
      JOIN offers o ON o.id = s.offer_id
      JOIN transactions t ON t.id = s.transaction_id
     CROSS JOIN unnest(${dayArray(daysBefore)}) AS d(days)
     WHERE s.status = 'ACTIVE' AND s.expires_at > ${now}
       AND s.expires_at - make_interval(days => d.days) <= ${now}
       AND NOT EXISTS (SELECT 1 FROM subscription_reminders r
                        WHERE r.subscription_id = s.id AND r.period_end = s.expires_at AND r.days_before = d.days)
       -- A period whose renewal is charged and under way is not ending: no reminder for it.
       AND NOT EXISTS (SELECT 1 FROM subscription_renewals n
                        WHERE n.subscription_id = s.id AND n.period_end = s.expires_at AND n.failure IS NULL)
     ORDER BY s.expires_at, s.id, d.days
     LIMIT ${limit}
     FOR UPDATE OF s SKIP LOCKED`.execute(trx);
  return rows;
}

/**
 * Records the reminders of the subscription's current period; returns the days newly recorded
 * (none when another scheduler recorded them first). The period end is read in SQL, at full
 * precision, never from a JS Date.
 */
export async function recordReminders(trx: Trx, subscriptionId: number, daysBefore: number[], now: Date): Promise<number[]> {
  const { rows } = await sql<{ days_before: number }>`
    INSERT INTO subscription_reminders (subscription_id, period_end, days_before, sent_at)
    SELECT s.id, s.expires_at, d.days, ${now}
      FROM subscriptions s CROSS JOIN unnest(${dayArray(daysBefore)}) AS d(days)
     WHERE s.id = ${subscriptionId}
    ON CONFLICT DO NOTHING
    RETURNING days_before`.execute(trx);
  return rows.map((r) => r.days_before);
}

export interface DueRenewal {
  id: number;
  user_id: number;
  offer_id: number;
  expires_at: Date;
}

/**
 * ACTIVE auto-renewing subscriptions within the lead time of their end whose period has no renewal
 * yet. A disabled account is not charged: its subscriptions simply run to their end.
 */
export async function dueRenewals(trx: Trx, now: Date, leadMinutes: number, limit: number): Promise<DueRenewal[]> {
  const { rows } = await sql<DueRenewal>`
    SELECT s.id, s.user_id, s.offer_id, s.expires_at
      FROM subscriptions s
      JOIN users u ON u.id = s.user_id
     WHERE s.status = 'ACTIVE' AND s.auto_renew
       AND u.disabled_at IS NULL
       AND s.expires_at - make_interval(mins => ${leadMinutes}) <= ${now}
       AND NOT EXISTS (SELECT 1 FROM subscription_renewals r WHERE r.subscription_id = s.id AND r.period_end = s.expires_at)
     ORDER BY s.expires_at
     LIMIT ${limit}
     FOR UPDATE OF s SKIP LOCKED`.execute(trx);
  return rows;
}

/** Takes the renewal of the subscription's current period; false when it was taken already (the unique key). */
export async function claimRenewal(trx: Trx, subscriptionId: number, now: Date): Promise<boolean> {
  const { rows } = await sql`
    INSERT INTO subscription_renewals (subscription_id, period_end, created_at)
    SELECT id, expires_at, ${now} FROM subscriptions WHERE id = ${subscriptionId}
    ON CONFLICT DO NOTHING
    RETURNING subscription_id`.execute(trx);
  return rows.length === 1;
}

export async function settleRenewal(
  trx: Trx,
  subscriptionId: number,
  outcome: { transactionId: string } | { failure: string },
): Promise<void> {
  await sql`
    UPDATE subscription_renewals r
       SET transaction_id = ${'transactionId' in outcome ? outcome.transactionId : null},
           failure = ${'failure' in outcome ? outcome.failure : null}
      FROM subscriptions s
     WHERE s.id = ${subscriptionId} AND r.subscription_id = s.id AND r.period_end = s.expires_at`.execute(trx);
}

export async function savepoint(trx: Trx, name: string) {
  await sql`SAVEPOINT ${sql.id(name)}`.execute(trx);
}

export async function rollbackTo(trx: Trx, name: string) {
  await sql`ROLLBACK TO SAVEPOINT ${sql.id(name)}`.execute(trx);
}
