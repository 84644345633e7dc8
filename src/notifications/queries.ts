// SQL for the feed and the email settings.
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { KeysetSlice } from '../http/pagination.js';

export interface NewNotification {
  user_id: number;
  event_id: string;
  kind: string;
  title: string;
  body: string;
  data: string;
  created_at: Date;
}

/** Idempotent on the event id: a batch handled again adds nothing. */
export async function insertNotifications(db: Database, rows: NewNotification[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('notifications').values(rows).onConflict((oc) => oc.column('event_id').doNothing()).execute();
}

export function listNotifications(db: Database, userId: number, unreadOnly: boolean, slice: KeysetSlice) {
  const { after } = slice;
  return db
    .selectFrom('notifications')
    .select(['id', 'kind', 'title', 'body', 'data', 'event_id', 'read_at', 'created_at'])
    .where('user_id', '=', userId)
    .$if(unreadOnly, (q) => q.where('read_at', 'is', null))
    .$if(after !== undefined, (q) => q.where('id', after!.op, after!.key))
    .orderBy('id', slice.order)
    .limit(slice.limit)
    .execute();
}

export type NotificationRow = Awaited<ReturnType<typeof listNotifications>>[number];

export async function countNotifications(db: Database, userId: number, unreadOnly: boolean) {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .$if(unreadOnly, (q) => q.where('read_at', 'is', null))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks the caller's own unread notifications read: the given ids, or all of them. */
export async function markRead(db: Database, userId: number, ids: number[] | 'all'): Promise<number> {
  if (ids !== 'all' && ids.length === 0) return 0;
  const result = await db
    .updateTable('notifications')
    .set({ read_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .$if(ids !== 'all', (q) => q.where('id', 'in', ids as number[]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function emailSettingRows(db: Database, userId: number) {
  return db.selectFrom('notification_settings').select(['kind', 'email']).where('user_id', '=', userId).execute();
}

export async function saveEmailSettings(db: Database, userId: number, changes: { kind: string; email: boolean }[]): Promise<void> {
  if (changes.length === 0) return;
  await db
    .insertInto('notification_settings')
    .values(changes.map((c) => ({ user_id: userId, kind: c.kind, email: c.email })))
    .onConflict((oc) => oc.columns(['user_id', 'kind']).doUpdateSet({ email: sql`EXCLUDED.email`, updated_at: sql`now()` }))
    .execute();
}
