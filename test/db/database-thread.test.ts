import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { sharedApp } from '../helpers/checks.js';

// Embedded PGlite runs its queries in a worker thread: these hold on both backends and show that
// a long query leaves HTTP answering, and that values and errors cross the thread unchanged.
describe.each(backends)('the database on %s', (backend) => {
  const t = sharedApp(backend);

  it('leaves HTTP answering while a long query runs', async () => {
    const { app, runtime } = t();
    const events: string[] = [];
    const slow = sql`SELECT pg_sleep(2)`.execute(runtime.db).then(() => events.push('query done'));
    // A timer, then a request that does not touch the database: on a blocked event loop neither
    // gets a turn before the query ends.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const health = await app.inject({ method: 'GET', url: '/health' });
    events.push('health answered');
    await slow;
    expect(health.statusCode).toBe(200);
    expect(events).toEqual(['health answered', 'query done']);
  });

  it('returns values and PostgreSQL errors as they were', async () => {
    const { db } = t().runtime;
    const at = new Date('2026-01-02T03:04:05.678Z');
    const { rows } = await sql<Record<string, unknown>>`
      SELECT 42::int8 AS count, 12.50::numeric(12, 2) AS amount, ${at}::timestamptz AS at,
             ${JSON.stringify({ a: [1, 'b'] })}::jsonb AS doc, '\\x00ff'::bytea AS bytes, NULL::text AS nothing`.execute(db);
    const row = rows[0]!;
    expect({ ...row, bytes: Array.from(row.bytes as Uint8Array) }).toEqual({
      count: 42,
      amount: '12.50',
      at,
      doc: { a: [1, 'b'] },
      bytes: [0, 255],
      nothing: null,
    });

    await sql`CREATE TABLE thread_check (id int PRIMARY KEY, n int CHECK (n > 0))`.execute(db);
    const failure = db.transaction().execute(async (trx) => {
      await sql`INSERT INTO thread_check VALUES (1, 1)`.execute(trx);
      await sql`INSERT INTO thread_check VALUES (1, 2)`.execute(trx);
    });
    await expect(failure).rejects.toMatchObject({ code: '23505', constraint: 'thread_check_pkey', detail: 'Key (id)=(1) already exists.' });
    // The failed transaction was rolled back whole, and the next one commits.
    await db.transaction().execute((trx) => sql`INSERT INTO thread_check VALUES (2, 1)`.execute(trx));
    await expect(sql`INSERT INTO thread_check VALUES (3, 0)`.execute(db)).rejects.toMatchObject({ code: '23514' });
    const { rows: left } = await sql<{ id: number }>`SELECT id FROM thread_check ORDER BY id`.execute(db);
    expect(left).toEqual([{ id: 2 }]);
  });
});
