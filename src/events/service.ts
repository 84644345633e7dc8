// Reading the outbox: a user's own events and, for admins, everyone's.
import type { Database } from '../db/connect.js';
import { keysetPage } from '../http/pagination.js';
import type { EventView } from './domain.js';
import * as q from './queries.js';

function eventView(row: q.EventRow): EventView {
  return {
    id: row.id,
    seq: row.seq,
    type: row.type,
    user_id: row.user_id,
    subject: row.subject,
    data: row.data,
    created_at: row.created_at.toISOString(),
  };
}

/** Newest first, paged through cursors like every other list. */
export async function eventPage(db: Database, filter: q.EventFilter, page: { limit: number; cursor?: string | undefined }) {
  const [count, result] = await Promise.all([
    q.countEvents(db, filter),
    keysetPage(
      { ...page, order: 'desc', maxKey: Number.MAX_SAFE_INTEGER },
      (e: q.EventRow) => e.seq,
      (slice) => q.listEvents(db, filter, slice),
    ),
  ]);
  return { count, ...result, results: result.results.map(eventView) };
}
