// Shared steps of the notification tests: writing events as any code would, replaying a consumer,
// and reading a person's feed.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import type { EventConsumer } from '../../src/events/consumer.js';
import type { NewEvent } from '../../src/events/domain.js';
import { emit } from '../../src/events/outbox.js';
import { bearer, type TestUser } from '../helpers/api.js';
import type { NotificationView } from '../../src/notifications/domain.js';

/** Writes events the way the lifecycle code will: through emit() inside a transaction. */
export async function emitEvents(db: Database, ...events: NewEvent[]): Promise<void> {
  await db.transaction().execute((trx) => emit(trx, ...events));
}

/** Moves a consumer back to the start of the outbox, as a crash before it stored its position would. */
export async function rewindConsumer(db: Database, name: string): Promise<void> {
  await db.updateTable('event_consumers').set({ last_xid: sql<string>`'0'::xid8`, last_seq: 0 }).where('name', '=', name).execute();
}

/**
 * Runs a consumer's passes until it has read past every event written so far; returns how many
 * events it handled. A consumer sees an event only once no older transaction is still open on the
 * PostgreSQL server (any database of it), so one pass may come too early on a busy server.
 */
export async function drain(db: Database, consumer: EventConsumer, timeoutMs = 20_000): Promise<number> {
  const last = await db
    .selectFrom('events')
    .select([sql<string>`xid::text`.as('xid'), 'seq'])
    .orderBy('xid', 'desc')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const deadline = Date.now() + timeoutMs;
  let handled = 0;
  for (;;) {
    handled += await consumer.runOnce();
    if (!last) return handled;
    const done = await db
      .selectFrom('event_consumers')
      .select(sql<boolean>`(last_xid, last_seq) >= (${last.xid}::xid8, ${last.seq}::bigint)`.as('past'))
      .where('name', '=', consumer.name)
      .executeTakeFirst();
    if (done?.past) return handled;
    if (Date.now() > deadline) throw new Error(`consumer ${consumer.name} did not reach event ${last.seq} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A notification as the API shows it. */
export type Notification = NotificationView;

export interface Feed {
  count: number;
  unread_count: number;
  next: string | null;
  previous: string | null;
  results: Notification[];
}

export async function feed(app: FastifyInstance, user: TestUser, query = ''): Promise<Feed> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/notifications/${query}`, headers: bearer(user.access) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Feed;
}

export async function setEmail(app: FastifyInstance, user: TestUser, email: string | null) {
  const res = await app.inject({ method: 'PATCH', url: '/api/v1/auth/profile/', headers: bearer(user.access), payload: { email } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { email: string | null };
}
