import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate, activationStatus, getJson, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectMoneyBalanced } from '../helpers/ledger.js';

/** Deletes every key this app wrote to Redis: queue, status cache and counters, as a FLUSHALL would. */
async function flushAppKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

describe.runIf(backends.includes('postgres'))('activation when Redis loses everything (PostgreSQL + Redis)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(
      'postgres',
      { PARTNER_SIM_LATENCY_MS: '0', RECONCILE_AFTER_MS: '300', RECONCILE_INTERVAL_MS: '100' },
      { worker: false },
    );
  });
  afterAll(async () => t?.close());

  it('serves status from the database and finishes every paid activation', async () => {
    expect(t.runtime.queue.kind).toBe('bullmq');
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await activate(t.app, user.access, offer.id)).json().transaction_id);

    const deleted = await flushAppKeys(t.env.REDIS_URL!, t.env.REDIS_KEY_PREFIX!);
    expect(deleted).toBeGreaterThan(0); // the queued jobs and cached statuses are gone

    for (const id of ids) {
      const res = await activationStatus(t.app, user.access, id);
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('PENDING');
    }

    t.runtime.startWorker(); // the reconciler finds the lost jobs in PostgreSQL
    for (const id of ids) expect((await waitForFinal(t.app, user.access, id)).status).toBe('SUCCESS');
    expect((await getJson<{ balance: string }>(t.app, user.access, '/api/v1/account/')).balance).toBe('20.00');
    await expectMoneyBalanced(t.runtime.db);

    await flushAppKeys(t.env.REDIS_URL!, t.env.REDIS_KEY_PREFIX!);
    for (const id of ids) expect((await activationStatus(t.app, user.access, id)).json().status).toBe('SUCCESS');
  });
});
