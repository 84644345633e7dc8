// SQL for reading and pruning the outbox.
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { KeysetSlice } from '../http/pagination.js';

export interface EventFilter {
  userId?: number | undefined;
  type?: string | undefined;
}

function filtered(db: Database, filter: EventFilter) {
  return db
    .selectFrom('events')
    .$if(filter.userId !== undefined, (q) => q.where('user_id', '=', filter.userId as number))
    .$if(filter.type !== undefined, (q) => q.where('type', '=', filter.type as string));
}

export function listEvents(db: Database, filter: EventFilter, slice: KeysetSlice) {
  const { after } = slice;
  return filtered(db, filter)
    .select(['id', 'seq', 'type', 'user_id', 'subject', 'data', 'created_at'])
    .$if(after !== undefined, (q) => q.where('seq', after!.op, after!.key))
    .orderBy('seq', slice.order)
    .limit(slice.limit)
    .execute();
}

export type EventRow = Awaited<ReturnType<typeof listEvents>>[number];

export async function countEvents(db: Database, filter: EventFilter) {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deletes events older than the retention; returns how many. */
export async function pruneEvents(db: Database, retentionDays: number, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('created_at', '<', sql<Date>`${now}::timestamptz - make_interval(days => ${retentionDays})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface ConsumerPosition {
  xid: string;
  seq: number;
}

/**
 * Takes (or keeps) the consumer's lease and returns its position, or undefined while another
 * process holds it. The row is created on first use.
 */
export async function leaseConsumer(db: Database, name: string, owner: string, leaseMs: number): Promise<ConsumerPosition | undefined> {
  await db.insertInto('event_consumers').values({ name }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db
    .updateTable('event_consumers')
    .set({ lease_owner: owner, lease_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .returning([sql<string>`last_xid::text`.as('xid'), 'last_seq as seq'])
    .executeTakeFirst();
  return row;
}

/** Moves the position on, only while this owner still holds the lease; false when it lost it. */
export async function advanceConsumer(db: Database, name: string, owner: string, to: ConsumerPosition): Promise<boolean> {
  const result = await db
    .updateTable('event_consumers')
    .set({ last_xid: sql<string>`${to.xid}::xid8`, last_seq: to.seq, updated_at: sql<Date>`now()` })
    .where('name', '=', name)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseConsumer(db: Database, name: string, owner: string): Promise<void> {
  await db.updateTable('event_consumers').set({ lease_owner: null, lease_until: null }).where('name', '=', name).where('lease_owner', '=', owner).execute();
}

/**
 * The next events after a position, in (xid, seq) order, of transactions that have all ended:
 * any event still to be committed belongs to a transaction at or past the snapshot's xmin, and so
 * comes after everything returned here.
 */
export function eventsAfter(db: Database, position: ConsumerPosition, limit: number) {
  return db
    .selectFrom('events')
    .select(['id', 'seq', sql<string>`xid::text`.as('xid'), 'type', 'user_id', 'subject', 'data', 'created_at'])
    .where(sql<boolean>`(xid, seq) > (${position.xid}::xid8, ${position.seq}::bigint)`)
    .where(sql<boolean>`xid < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy('xid')
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export type ConsumedEvent = Awaited<ReturnType<typeof eventsAfter>>[number];

/**
 * Per consumer, the age in seconds of the oldest committed event after its position (0 when it has
 * handled everything): how far behind the notifications, webhooks and other consumers are.
 */
export async function consumerLag(db: Database): Promise<Array<{ consumer: string; seconds: number }>> {
  const { rows } = await sql<{ consumer: string; seconds: string | number }>`
    SELECT c.name AS consumer,
           COALESCE(EXTRACT(EPOCH FROM now() - (
             SELECT e.created_at FROM events e
              WHERE (e.xid, e.seq) > (c.last_xid, c.last_seq)
              ORDER BY e.xid, e.seq
              LIMIT 1)), 0) AS seconds
      FROM event_consumers c
     ORDER BY c.name`.execute(db);
  return rows.map((r) => ({ consumer: r.consumer, seconds: Math.max(0, Number(r.seconds)) }));
}
