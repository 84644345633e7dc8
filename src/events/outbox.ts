// Writes domain events inside the caller's transaction: the event exists exactly when the change
// it describes was committed, so no consumer can miss one or see one that did not happen.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DB } from '../db/types.js';
import type { NewEvent } from './domain.js';

export async function emit(trx: Transaction<DB>, ...events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('events')
    .values(
      events.map((e) => ({ id: randomUUID(), type: e.type, user_id: e.userId, subject: e.subject, data: JSON.stringify(e.data) })),
    )
    .execute();
}
