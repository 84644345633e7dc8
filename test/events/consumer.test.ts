// Consumers of the outbox: every committed event once per pass, in commit-safe order, from a stored
// position that survives a restart, on one process at a time.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventConsumer } from '../../src/events/consumer.js';
import type { ConsumedEvent } from '../../src/events/queries.js';
import { credit, newUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';

const settings = { batch: 3, intervalMs: 50, leaseMs: 30_000 };

describe.each(backends)('event consumers on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, {}, { worker: false });
  });
  afterAll(async () => t?.close());

  const consumer = (name: string, seen: ConsumedEvent[]) =>
    new EventConsumer(t.runtime.db, name, async (events) => void seen.push(...events), settings, pino({ level: 'silent' }));

  /**
   * Passes until the consumer has handed over `count` events of the user. One pass is not enough on
   * a shared PostgreSQL server: an event waits behind any transaction still open anywhere on it.
   */
  const drainUntil = async (c: EventConsumer, seen: ConsumedEvent[], userId: number, count: number) => {
    await vi.waitFor(async () => {
      await c.runOnce();
      expect(seen.filter((e) => e.user_id === userId).length).toBeGreaterThanOrEqual(count);
    }, { timeout: 20_000, interval: 50 });
  };

  it('hands over every committed event once, in order, and resumes after a restart where it stopped', async () => {
    const name = `test-${randomUUID()}`;
    const user = await newUser(t.app);
    const seen: ConsumedEvent[] = [];
    const first = consumer(name, seen);
    await first.runOnce(); // everything written before this test
    seen.length = 0;
    for (const amount of ['1.00', '2.00', '3.00', '4.00']) await credit(t.app, user.id, amount);
    await drainUntil(first, seen, user.id, 4);
    await first.stop();

    await credit(t.app, user.id, '5.00');
    const restarted = consumer(name, seen);
    await drainUntil(restarted, seen, user.id, 5);
    await restarted.stop();
    const mine = seen.filter((e) => e.user_id === user.id);
    expect(mine.map((e) => e.data.amount)).toEqual(['1.00', '2.00', '3.00', '4.00', '5.00']);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
  });

  it('runs a consumer on one process at a time: a second one gets nothing until the lease is released', async () => {
    const name = `test-${randomUUID()}`;
    const user = await newUser(t.app);
    const seenA: ConsumedEvent[] = [];
    const seenB: ConsumedEvent[] = [];
    const a = consumer(name, seenA);
    const b = consumer(name, seenB);
    await a.runOnce();
    await credit(t.app, user.id, '6.00');
    expect(await b.runOnce()).toBe(0);
    expect(seenB).toEqual([]);
    await a.stop();
    await drainUntil(b, seenB, user.id, 1);
    await b.stop();
    expect(seenB.filter((e) => e.user_id === user.id).map((e) => e.data.amount)).toEqual(['6.00']);
  });

  it.runIf(backend === 'postgres')('does not pass over an event whose transaction commits after a later one', async () => {
    const name = `test-${randomUUID()}`;
    const user = await newUser(t.app);
    const seen: ConsumedEvent[] = [];
    const c = consumer(name, seen);
    await c.runOnce();
    seen.length = 0;
    const slow = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO events (id, type, user_id, data) VALUES ($1, 'balance.low', $2, '{"n": "slow"}')`, [randomUUID(), user.id]);
      await credit(t.app, user.id, '7.00'); // a later seq, committed first
      await c.runOnce();
      expect(seen.filter((e) => e.user_id === user.id)).toEqual([]);
      await slow.query('COMMIT');
      await drainUntil(c, seen, user.id, 2);
      expect(seen.filter((e) => e.user_id === user.id).map((e) => e.type)).toEqual(['balance.low', 'balance.credited']);
    } finally {
      await slow.end();
      await c.stop();
    }
  });
});
