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
