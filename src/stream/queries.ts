// SQL the live stream needs besides the outbox's own reader (events/queries.ts eventsAfter).
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { Position } from './position.js';

/**
 * Where "now" is in the outbox: every event of a transaction that has ended lies before it, every
 * event still to come (its transaction running or not yet started) after it.
 */
export async function currentPosition(db: Database): Promise<Position> {
  const row = await sql<{ xid: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid`.execute(db);
  return { xid: row.rows[0]!.xid, seq: 0 };
}

/** One user's events after a position, in outbox order, of ended transactions only (as eventsAfter). */
export function userEventsAfter(db: Database, userId: number, position: Position, limit: number) {
  return db
    .selectFrom('events')
    .select(['id', 'seq', sql<string>`xid::text`.as('xid'), 'type', 'user_id', 'subject', 'data', 'created_at'])
    .where('user_id', '=', userId)
    .where(sql<boolean>`(xid, seq) > (${position.xid}::xid8, ${position.seq}::bigint)`)
    .where(sql<boolean>`xid < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy('xid')
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/**
 * Whether an event after the position is committed but not yet readable: its transaction ended
 * while an older one still runs (eventsAfter waits for that one). Uncommitted events are not
 * visible here, so this is true only for a wait measured in milliseconds.
 */
export async function committedButHeld(db: Database, position: Position): Promise<boolean> {
  const row = await db
    .selectFrom('events')
    .select(sql<number>`1`.as('held'))
    .where(sql<boolean>`(xid, seq) > (${position.xid}::xid8, ${position.seq}::bigint)`)
    .where(sql<boolean>`xid >= pg_snapshot_xmin(pg_current_snapshot())`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
