// Webhooks with real processes on PostgreSQL + Redis in split roles: the API process registers the
// endpoint, worker processes send. A worker killed with SIGKILL in the middle of a POST loses
// nothing (another sends it again, with the same event id), and two workers never send the same
// attempt twice.
import { afterAll, describe, expect, it } from 'vitest';
import { backendEnv, backends } from '../helpers/backends.js';
import { adminLogin, call, newUser, openSql, Processes, waitFor } from '../helpers/processes.js';
import { verifySignature, WebhookReceiver } from './receiver.js';

const TEST_TIMEOUT_MS = 180_000;
// Split roles need PostgreSQL and Redis; without them the suite is registered as skipped, not empty.
const scaled = backends.includes('postgres') && Boolean(process.env.TEST_REDIS_URL);
const COMMON_ENV = {
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_INTERVAL_MS: '100',
};
const MORE_EVENTS = 20;

describe.runIf(scaled)('webhooks with server processes on PostgreSQL + Redis', () => {
  const procs = new Processes();
  const receiver = new WebhookReceiver();
  let cleanup = async () => {};
  afterAll(async () => {
    await procs.killAll();
    await receiver.stop();
    await cleanup();
  });

  it('sends again what a worker killed mid-delivery was sending, and every other event once across two workers', async () => {
    const prepared = await backendEnv('postgres');
    cleanup = prepared.cleanup;
    const env = { ...prepared.env, ...COMMON_ENV };
    await receiver.start();
    const db = await openSql(env);
    try {
      const api = await procs.start('api', { ...env, ROLE: 'api' });
      const first = await procs.start('worker-1', { ...env, ROLE: 'worker' });
      const admin = await adminLogin(api.url);
      const path = '/hooks/processes';
      const created = await call<{ id: number; secret: string }>(api.url, 'POST', '/api/v1/admin/webhooks/', {
        token: admin,
        body: { url: receiver.url(path), events: ['balance.credited'] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const { id: endpointId, secret } = created.body;

      // The first POST is never answered: the kill lands while worker-1 waits for it.
      await receiver.script(path, { hang: true });
      const user = await newUser(api.url, admin, '1.00');
      const [hung] = await waitFor(async () => {
        const received = await receiver.requests(path);
        return received.length > 0 ? received : undefined;
      }, { what: 'the first webhook to reach the receiver', timeoutMs: 30_000, context: () => procs.describe() });
      expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

      await procs.start('worker-2', { ...env, ROLE: 'worker' });
      await procs.start('worker-3', { ...env, ROLE: 'worker' });
      for (let n = 0; n < MORE_EVENTS; n++) {
        const res = await call(api.url, 'POST', `/api/v1/admin/users/${user.id}/credit/`, { token: admin, body: { amount: '1.00', reason: `top-up ${n}` } });
        expect(res.status).toBe(201);
      }

      const total = MORE_EVENTS + 1;
      const rows = await waitFor(async () => {
        const found = await db.rows<{ event_id: string; status: string; attempts: number }>(
          `SELECT event_id::text, status, attempts FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id`,
          [endpointId],
        );
        return found.length === total && found.every((r) => r.status === 'delivered') ? found : undefined;
      }, { what: `${total} deliveries to be delivered`, timeoutMs: 60_000, context: () => procs.describe() });

      const received = await receiver.requests(path);
      const hungId = hung!.headers['offers-event-id']!;
      const times = new Map<string, number>();
      for (const r of received) times.set(r.headers['offers-event-id']!, (times.get(r.headers['offers-event-id']!) ?? 0) + 1);
      expect(times.size).toBe(total);
      expect(times.get(hungId)).toBe(2);
      expect([...times].filter(([id, n]) => id !== hungId && n !== 1)).toEqual([]);
      expect(received.every((r) => verifySignature(r.headers['offers-signature'], secret, r.body).valid === 1)).toBe(true);
      expect(rows.find((r) => r.event_id === hungId)!.attempts).toBe(2);
      expect(rows.filter((r) => r.event_id !== hungId).every((r) => r.attempts === 1)).toBe(true);
    } finally {
      await db.close();
    }
  }, TEST_TIMEOUT_MS);
});
