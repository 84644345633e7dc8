// The admin tools in a split deployment (PostgreSQL + Redis): an API process takes the admin's
// request, a separate worker process does the work, and a second API process hears of a disabled
// user at once.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { activate, adminToken, bearer, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError, MANY_LOGINS } from '../helpers/checks.js';
import { FakePartner } from '../helpers/partner.js';

describe.runIf(backends.includes('postgres') && process.env.TEST_REDIS_URL)('admin tools with split roles (PostgreSQL + Redis)', () => {
  const partner = new FakePartner();
  let api: TestApp;
  let worker: Runtime;
  const others: Array<{ runtime: Runtime; app: FastifyInstance }> = [];
  beforeAll(async () => {
    const overrides = { ...MANY_LOGINS, PARTNER_URL: await partner.start(), ACTIVATION_RETRY_BASE_MS: '60000', ACTIVATION_RETRY_MAX_MS: '60000' };
    api = await startApp('postgres', { ...overrides, ROLE: 'api' }, { worker: false });
    worker = await createRuntime(loadConfig({ ...api.env, ROLE: 'worker' }));
    worker.startWorker();
  });
  afterAll(async () => {
    for (const other of others) {
      await other.app.close();
      await other.runtime.close();
    }
    await worker?.close();
    await api?.close();
    await partner.stop();
  });

  it('redrives through the shared queue to the worker process, and resolves on the API process', async () => {
    const admin = bearer(await adminToken(api.app));
    const user = await newUser(api.app, { balance: '40.00' });
    const offer = await newOffer(api.app, { price: '10.00' });
    let ambiguous = true;
    partner.respond = () => (ambiguous ? { status: 503 } : { status: 200, body: { reference: 'VIA-WORKER' } });
    const first = (await activate(api.app, user.access, offer.id)).json().transaction_id as string;
    const second = (await activate(api.app, user.access, offer.id)).json().transaction_id as string;
    const waiting = async (id: string) => {
      for (let i = 0; i < 400; i++) {
        const row = await api.runtime.db.selectFrom('transactions').select(['maybe_delivered', 'lease_until']).where('id', '=', id).executeTakeFirstOrThrow();
        if (row.maybe_delivered && row.lease_until === null) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${id} never waited for a retry`);
    };
    await waiting(first);
    await waiting(second);

    ambiguous = false;
    expect((await api.app.inject({ method: 'POST', url: `/api/v1/admin/activations/${first}/redrive/`, headers: admin })).statusCode).toBe(202);
    expect(await waitForFinal(api.app, user.access, first, 10_000)).toMatchObject({ status: 'SUCCESS', reference: 'VIA-WORKER' });

    const resolved = await api.app.inject({
      method: 'POST',
      url: `/api/v1/admin/activations/${second}/resolve/`,
      headers: admin,
      payload: { outcome: 'FAILED', reason: 'Partner says no' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(await waitForFinal(api.app, user.access, second)).toMatchObject({ status: 'FAILED', error: { code: 'partner_rejected', message: 'Partner says no' } });
  });

  it('refuses a disabled user\'s token on another API process within 1 s', async () => {
    const runtime = await createRuntime(loadConfig({ ...api.env, ROLE: 'api' }));
    const second = await buildApp(runtime);
    await second.ready();
    others.push({ runtime, app: second });
    const user = await newUser(api.app);
    const get = () => second.inject({ method: 'GET', url: '/api/v1/account/', headers: bearer(user.access) });
    expect((await get()).statusCode).toBe(200);
    const admin = bearer(await adminToken(api.app));
    expect((await api.app.inject({ method: 'POST', url: `/api/v1/admin/users/${user.id}/disable/`, headers: admin })).statusCode).toBe(200);
    const started = Date.now();
    while ((await get()).statusCode !== 401) {
      expect(Date.now() - started).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expectError(await get(), 401, 'invalid_token');
  });
});
