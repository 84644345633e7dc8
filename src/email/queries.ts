// SQL for the email queue: claiming due deliveries under a lease and recording each outcome.
// Time comes in as a parameter (the sender's clock), so retries can be tested without waiting.
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';

/**
 * Takes up to `limit` due deliveries for this owner until `leaseUntil` and counts the attempt.
 * SKIP LOCKED lets concurrent senders take different rows; the lease keeps a row from being taken
 * again while its sender may still be talking to the SMTP server.
 */
export function claimDue(db: Database, owner: string, now: Date, leaseUntil: Date, limit: number) {
  return db
    .updateTable('email_deliveries')
    .set({ lease_owner: owner, lease_until: leaseUntil, attempts: sql`attempts + 1` })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('email_deliveries')
        .select('id')
        .where('status', '=', 'queued')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .where('status', '=', 'queued')
    .returning(['id', 'event_id', 'recipient', 'subject', 'text_body', 'html_body', 'attempts'])
    .execute();
}

export type ClaimedDelivery = Awaited<ReturnType<typeof claimDue>>[number];

const held = (db: Database, id: number, owner: string) =>
  db.updateTable('email_deliveries').where('id', '=', id).where('status', '=', 'queued').where('lease_owner', '=', owner);

export async function markSent(db: Database, id: number, owner: string, now: Date): Promise<void> {
  await held(db, id, owner).set({ status: 'sent', sent_at: now, last_error: null, lease_owner: null, lease_until: null }).execute();
}

export async function markFailed(db: Database, id: number, owner: string, error: string): Promise<void> {
  await held(db, id, owner).set({ status: 'failed', last_error: error, lease_owner: null, lease_until: null }).execute();
}

export async function scheduleRetry(db: Database, id: number, owner: string, error: string, at: Date): Promise<void> {
  await held(db, id, owner).set({ last_error: error, next_attempt_at: at, lease_owner: null, lease_until: null }).execute();
}
