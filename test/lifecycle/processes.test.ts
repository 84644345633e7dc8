// Auto-renewal with real processes on PostgreSQL + Redis in split roles: a worker killed with
// SIGKILL in the middle of a renewal's partner call, and a new worker that finishes it, once.
import { afterAll, describe, expect, it } from 'vitest';
import { backendEnv, backends } from '../helpers/backends.js';
import { moneyDiscrepancies } from '../helpers/ledger.js';
import { activate, adminLogin, call, newOffer, newUser, openSql, Processes, waitFor, waitForStatus } from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 180_000;
// Split roles need PostgreSQL and Redis; without them the suite is registered as skipped, not empty.
const scaled = backends.includes('postgres') && Boolean(process.env.TEST_REDIS_URL);
const COMMON_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '100000', LIFECYCLE_INTERVAL_MS: '200' };

describe.runIf(scaled)('auto-renewal with server processes on PostgreSQL + Redis', () => {
  const backend = 'postgres';
  const procs = new Processes();
  let cleanup = async () => {};
  afterAll(async () => {
    await procs.killAll();
    await cleanup();
  });

  it('charges a renewal exactly once when its worker is killed with SIGKILL in the middle of the partner call', async () => {
    const prepared = await backendEnv(backend);
    cleanup = prepared.cleanup;
    const env = { ...prepared.env, ...COMMON_ENV };
    const db = await openSql(env);
    try {
      const api = await procs.start('api', { ...env, ROLE: 'api' });
      // A slow partner: the kill lands while the renewal's call is under way.
      const first = await procs.start('worker-1', { ...env, ROLE: 'worker', PARTNER_SIM_LATENCY_MS: '4000' });
      const admin = await adminLogin(api.url);
      const offer = await newOffer(api.url, admin, '20.00');
      const user = await newUser(api.url, admin, '100.00');
      const bought = await activate(api.url, user.token, offer.id);
      expect(bought.status, JSON.stringify(bought.body)).toBe(202);
      await waitForStatus(api.url, user.token, bought.body.transaction_id, 'SUCCESS', { timeoutMs: 30_000, context: () => procs.describe() });

      const [sub] = (await call<{ results: { id: number }[] }>(api.url, 'GET', '/api/v1/account/subscriptions/', { token: user.token })).body.results;
      const patched = await call(api.url, 'PATCH', `/api/v1/account/subscriptions/${sub!.id}/`, { token: user.token, body: { auto_renew: true } });
      expect(patched.status).toBe(200);
      // The period now ends within the renewal lead time (60 minutes), so the next pass renews it.
      const [period] = await db.rows<{ end: string }>(
        `UPDATE subscriptions SET expires_at = now() + interval '30 minutes' WHERE id = $1 RETURNING expires_at::text AS end`,
        [sub!.id],
      );

      const renewal = await waitFor(
        async () =>
          (await db.rows<{ id: string }>(`SELECT id::text FROM transactions WHERE user_id = $1 AND source = 'auto_renew' AND status = 'PROCESSING'`, [user.id]))[0],
        { what: 'the renewal to reach the partner', timeoutMs: 20_000, context: () => procs.describe() },
      );
      expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

      // The new worker's scheduler passes over the period many times while the dead one's lease runs out.
      await procs.start('worker-2', { ...env, ROLE: 'worker', PARTNER_SIM_LATENCY_MS: '0', RECONCILE_AFTER_MS: '200', RECONCILE_INTERVAL_MS: '100' });
      await waitForStatus(api.url, user.token, renewal.id, 'SUCCESS', { timeoutMs: 40_000, context: () => procs.describe() });

      const activations = await db.rows<{ id: string; source: string; status: string; attempts: number }>(
        `SELECT id::text, source, status, attempts FROM transactions WHERE user_id = $1 AND type = 'ACTIVATION' ORDER BY seq`,
        [user.id],
      );
      expect(activations.map((a) => [a.source, a.status])).toEqual([['purchase', 'SUCCESS'], ['auto_renew', 'SUCCESS']]);
      expect(activations[1]!.attempts).toBe(2);
      const [extended] = await db.rows<{ by_30_days: boolean; status: string }>(
        `SELECT expires_at = $2::timestamptz + interval '30 days' AS by_30_days, status FROM subscriptions WHERE id = $1`,
        [sub!.id, period!.end],
      );
      expect(extended).toEqual({ by_30_days: true, status: 'ACTIVE' });
      const renewals = await db.rows<{ transaction_id: string }>(`SELECT transaction_id::text FROM subscription_renewals WHERE subscription_id = $1`, [sub!.id]);
      expect(renewals).toEqual([{ transaction_id: renewal.id }]);
      const [balance] = await db.rows<{ balance: string }>(`SELECT balance::text FROM accounts WHERE user_id = $1`, [user.id]);
      expect(balance!.balance).toBe('60.00');
      const extensions = await db.rows(`SELECT 1 FROM events WHERE user_id = $1 AND type = 'subscription.extended'`, [user.id]);
      expect(extensions).toHaveLength(1);
      expect(await moneyDiscrepancies(db)).toEqual([]);
    } finally {
      await db.close();
    }
  }, TEST_TIMEOUT_MS);
});
