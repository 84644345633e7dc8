// Activation with real server processes: killed workers, jobs lost between commit and enqueue,
// graceful shutdown, and several API and worker processes sharing PostgreSQL and Redis.
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  activate,
  activationStatus,
  adminLogin,
  call,
  heldRequest,
  moneyOf,
  newOffer,
  newUser,
  processTest,
  removeEmbeddedTemplate,
  waitFor,
  waitForStatus,
} from '../helpers/processes.js';
import { moneyDiscrepancies } from '../helpers/ledger.js';

const TEST_TIMEOUT_MS = 180_000;

/** Many registrations and logins come from 127.0.0.1; the auth budget has its own tests. */
const COMMON_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '100000' };

/** A restarted process that picks abandoned activations up quickly and finishes them at once. */
const FAST_RECOVERY_ENV = { PARTNER_SIM_LATENCY_MS: '0', RECONCILE_AFTER_MS: '200', RECONCILE_INTERVAL_MS: '100' };

/** BullMQ and the Redis cache need TEST_REDIS_URL as well as TEST_DATABASE_URL. */
const scaledBackends = backends.filter((b) => b === 'postgres' && process.env.TEST_REDIS_URL);

afterAll(removeEmbeddedTemplate);

describe.concurrent.each(backends)('server processes on %s', (backend) => {
  it('finishes an activation exactly once after its worker was killed with SIGKILL in the middle of the job', async (context) => {
    const { env, procs, query } = await processTest(context, backend, COMMON_ENV);
    const first = await procs.start('first', { ...env, PARTNER_SIM_LATENCY_MS: '3000' });
    const admin = await adminLogin(first.url);
    const offer = await newOffer(first.url, admin, '20.00');
    const user = await newUser(first.url, admin, '50.00');

    const accepted = await activate(first.url, user.token, offer.id);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const id = accepted.body.transaction_id;
    await waitForStatus(first.url, user.token, id, 'PROCESSING', { timeoutMs: 10_000, context: () => procs.describe() });

    const killed = await first.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(first.logIndex((l) => l.msg === 'activation succeeded')).toBe(-1);

    // The dead worker's lease (partner latency + 5 s) has to run out before anyone may take the job again.
    const second = await procs.start('second', { ...env, ...FAST_RECOVERY_ENV });
    await waitForStatus(second.url, user.token, id, 'SUCCESS', { timeoutMs: 30_000, context: () => procs.describe() });
    expect((await second.kill('SIGTERM')).code).toBe(0);

    const { money, subscriptions, unbalanced } = await query(async (db) => ({
      money: await moneyOf(db, user.id),
      subscriptions: await db.rows<{ offer_id: number }>('SELECT offer_id FROM subscriptions WHERE user_id = $1', [user.id]),
      unbalanced: await moneyDiscrepancies(db),
    }));
    expect(money.activations).toHaveLength(1);
    expect(money.activations[0]).toMatchObject({ id, status: 'SUCCESS', amount: '20.00' });
    // Claimed once by the killed process and once more after its lease ran out.
    expect(money.activations[0]!.attempts).toBe(2);
    expect(money.refunds).toBe(0);
    expect(money.balance).toBe('30.00');
    expect(money.ledgerRows.filter((r) => r.transaction_id === id)).toEqual([{ transaction_id: id, amount: '-20.00' }]);
    expect(subscriptions).toEqual([{ offer_id: offer.id }]);
    expect(unbalanced).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('on SIGTERM finishes the running job and the request in flight, then exits with code 0', async (context) => {
    const { env, procs, query } = await processTest(context, backend, COMMON_ENV);
    // A shutdown that hangs ends with exit code 1 after SHUTDOWN_TIMEOUT_MS; keep that short.
    const server = await procs.start('server', { ...env, PARTNER_SIM_LATENCY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '10000' });
    const admin = await adminLogin(server.url);
    const offer = await newOffer(server.url, admin, '20.00');
    const user = await newUser(server.url, admin, '20.00');

    // A login whose body is held back: the server has it in flight until the test sends the rest.
    const held = heldRequest(server.url, '/api/v1/auth/login/', { username: user.username, password: user.password });
    context.onTestFinished(held.close);
    await server.waitForLog((l) => l.reqId === held.requestId && l.msg === 'incoming request', 'the held request', 10_000);

    const accepted = await activate(server.url, user.token, offer.id);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const id = accepted.body.transaction_id;
    await waitForStatus(server.url, user.token, id, 'PROCESSING', { timeoutMs: 10_000, context: () => procs.describe() });

    await server.signal('SIGTERM');
    await server.waitForLog((l) => l.msg === 'shutting down', 'shutdown to begin', 10_000);
    held.finish();
    const login = await held.response;
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body).toMatchObject({ access: expect.any(String), refresh: expect.any(String) });

    const exit = await waitFor(async () => (server.running ? undefined : server.exited), {
      what: 'the server to exit after SIGTERM',
      timeoutMs: 30_000,
      context: () => procs.describe(),
    });
    expect(exit, server.describe()).toEqual({ code: 0, signal: null });
    // The job was still running when the signal came, and finished before the process left.
    const shuttingDown = server.logIndex((l) => l.msg === 'shutting down');
    const succeeded = server.logIndex((l) => l.msg === 'activation succeeded' && l.transaction_id === id);
    expect(succeeded, server.describe()).toBeGreaterThan(shuttingDown);

    const { money, unbalanced } = await query(async (db) => ({ money: await moneyOf(db, user.id), unbalanced: await moneyDiscrepancies(db) }));
    expect(money.activations).toHaveLength(1);
    expect(money.activations[0]).toMatchObject({ id, status: 'SUCCESS', attempts: 1 });
    expect(money.activations[0]!.completed_at).not.toBeNull();
    expect(money.refunds).toBe(0);
    expect(money.balance).toBe('0.00');
    expect(unbalanced).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe.concurrent('server processes on embedded', () => {
  it('finishes paid activations whose in-process jobs died with the process right after the 202', async (context) => {
    const { env, procs, query } = await processTest(context, 'embedded', COMMON_ENV);
    // One job at a time: the second activation waits in the in-memory queue and nowhere else.
    const first = await procs.start('first', { ...env, PARTNER_SIM_LATENCY_MS: '3000', WORKER_CONCURRENCY: '1' });
    const admin = await adminLogin(first.url);
    const offer = await newOffer(first.url, admin, '20.00');
    const user = await newUser(first.url, admin, '100.00');

    const running = await activate(first.url, user.token, offer.id);
    const queued = await activate(first.url, user.token, offer.id);
    expect(running.status, JSON.stringify(running.body)).toBe(202);
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    const ids = [running.body.transaction_id, queued.body.transaction_id];
    expect(await activationStatus(first.url, user.token, ids[1]!)).toBe('PENDING');

    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

    const second = await procs.start('second', { ...env, ...FAST_RECOVERY_ENV });
    for (const id of ids) {
      await waitForStatus(second.url, user.token, id, 'SUCCESS', { timeoutMs: 30_000, context: () => procs.describe() });
    }
    expect((await second.kill('SIGTERM')).code).toBe(0);

    const { money, unbalanced } = await query(async (db) => ({ money: await moneyOf(db, user.id), unbalanced: await moneyDiscrepancies(db) }));
    expect(money.activations.map((a) => [a.id, a.status])).toEqual(ids.map((id) => [id, 'SUCCESS']));
    // The queued one was never claimed before the kill: only the reconciler can have sent it to a worker.
    expect(money.activations[1]!.attempts).toBe(1);
    expect(money.refunds).toBe(0);
    expect(money.balance).toBe('60.00');
    for (const id of ids) {
      expect(money.ledgerRows.filter((r) => r.transaction_id === id)).toEqual([{ transaction_id: id, amount: '-20.00' }]);
    }
    expect(unbalanced).toEqual([]);
  }, TEST_TIMEOUT_MS);
});

describe.concurrent.each(scaledBackends)('server processes on %s with Redis', (backend) => {
  it('keeps the charge when Redis is unreachable at enqueue time, and a worker finishes it later', async (context) => {
    const { env, procs, query } = await processTest(context, backend, COMMON_ENV);
    const api = await procs.start('api', { ...env, ROLE: 'api' });
    const admin = await adminLogin(api.url);
    const offer = await newOffer(api.url, admin, '20.00');
    const user = await newUser(api.url, admin, '50.00');

    const noRedis = await procs.start('api-without-redis', { ...env, ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:1' });
    const ready = await call<{ status: string; checks: Record<string, string> }>(noRedis.url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('ok');
    expect(ready.body.checks.redis).not.toBe('ok');

    const accepted = await activate(noRedis.url, user.token, offer.id);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const id = accepted.body.transaction_id;
    await noRedis.waitForLog(
      (l) => l.msg === 'could not enqueue activation; the reconciler will retry it' && l.transaction_id === id,
      'the failed enqueue to be logged',
      10_000,
    );
    // Without its cache the process still answers from the database.
    expect(await activationStatus(noRedis.url, user.token, id)).toBe('PENDING');
    const balance = await call<{ balance: string }>(noRedis.url, 'GET', '/api/v1/account/balance/', { token: user.token });
    expect(balance.body.balance).toBe('30.00');
    await noRedis.kill('SIGKILL');

    await procs.start('worker', { ...env, ROLE: 'worker', ...FAST_RECOVERY_ENV });
    await waitForStatus(api.url, user.token, id, 'SUCCESS', { timeoutMs: 30_000, context: () => procs.describe() });

    const { money, unbalanced } = await query(async (db) => ({ money: await moneyOf(db, user.id), unbalanced: await moneyDiscrepancies(db) }));
    expect(money.activations).toHaveLength(1);
    expect(money.activations[0]).toMatchObject({ id, status: 'SUCCESS', attempts: 1 });
    expect(money.refunds).toBe(0);
    expect(money.balance).toBe('30.00');
    expect(money.ledgerRows.filter((r) => r.transaction_id === id)).toEqual([{ transaction_id: id, amount: '-20.00' }]);
    expect(unbalanced).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('two API and two worker processes charge exactly once under concurrency', async (context) => {
    const { env, procs, query } = await processTest(context, backend, COMMON_ENV);
    const [api1, api2] = await Promise.all([
      procs.start('api-1', { ...env, ROLE: 'api' }),
      procs.start('api-2', { ...env, ROLE: 'api' }),
      procs.start('worker-1', { ...env, ROLE: 'worker', PARTNER_SIM_LATENCY_MS: '50' }),
      procs.start('worker-2', { ...env, ROLE: 'worker', PARTNER_SIM_LATENCY_MS: '50' }),
    ]);
    const urls = [api1!.url, api2!.url];
    const admin = await adminLogin(urls[0]!);
    const offer = await newOffer(urls[0]!, admin, '20.00');

    // Funds for exactly one activation, 40 attempts at once through both APIs.
    const poor = await newUser(urls[1]!, admin, '20.00');
    const attempts = await Promise.all(Array.from({ length: 40 }, (_, i) => activate(urls[i % 2]!, poor.token, offer.id)));
    const accepted = attempts.filter((r) => r.status === 202);
    const refused = attempts.filter((r) => r.status === 400 && r.body.code === 'insufficient_balance');
    expect(accepted, JSON.stringify(attempts.map((r) => r.status))).toHaveLength(1);
    expect(refused).toHaveLength(39);
    const winner = accepted[0]!.body.transaction_id;
    const poorBalance = await call<{ balance: string }>(urls[1]!, 'GET', '/api/v1/account/balance/', { token: poor.token });
    expect(poorBalance.body.balance).toBe('0.00');
    await waitForStatus(urls[1]!, poor.token, winner, 'SUCCESS', { context: () => procs.describe() });

    // Twenty users with enough money, spread over both APIs: each activation succeeds and is charged once.
    const funded = await Promise.all(Array.from({ length: 20 }, (_, i) => newUser(urls[i % 2]!, admin, '25.00')));
    const started = await Promise.all(funded.map((u, i) => activate(urls[i % 2]!, u.token, offer.id)));
    expect(started.map((r) => r.status)).toEqual(funded.map(() => 202));
    await Promise.all(
      funded.map((u, i) =>
        waitForStatus(urls[(i + 1) % 2]!, u.token, started[i]!.body.transaction_id, 'SUCCESS', { context: () => procs.describe() }),
      ),
    );

    const results = await query(async (db) => {
      // One connection answers one query at a time.
      const fundedMoney = [];
      for (const u of funded) fundedMoney.push(await moneyOf(db, u.id));
      return { poor: await moneyOf(db, poor.id), funded: fundedMoney, unbalanced: await moneyDiscrepancies(db) };
    });
    expect(results.poor.activations.map((a) => [a.id, a.status])).toEqual([[winner, 'SUCCESS']]);
    expect(results.poor.ledgerRows.filter((r) => r.transaction_id === winner)).toHaveLength(1);
    expect(results.poor.balance).toBe('0.00');
    results.funded.forEach((money, i) => {
      const id = started[i]!.body.transaction_id;
      expect(money.activations.map((a) => [a.id, a.status])).toEqual([[id, 'SUCCESS']]);
      expect(money.refunds).toBe(0);
      expect(money.ledgerRows.filter((r) => r.transaction_id === id)).toEqual([{ transaction_id: id, amount: '-20.00' }]);
      expect(money.balance).toBe('5.00');
    });
    expect(results.unbalanced).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
