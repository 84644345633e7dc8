// The audit trail through the admin API: one row per admin change, written with the change (and
// only with it), never altered afterwards, and listed with filters and pages.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newUser, uniqueName } from '../helpers/api.js';
import { ADMIN, backends, type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage, sharedApp } from '../helpers/checks.js';

interface AuditRow {
  id: number;
  actor: string;
  actor_id: number | null;
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  client_address: string | null;
  created_at: string;
}

describe.each(backends)('audit trail on %s', (backend) => {
  const app = sharedApp(backend);
  let t: TestApp;
  let admin: Record<string, string>;
  let adminId: number;
  beforeAll(async () => {
    t = app();
    admin = bearer(await adminToken(t.app));
    adminId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: admin })).json().id;
  });

  const audit = (query: string) => getPage<AuditRow>(t.app, `/api/v1/admin/audit/?${query}`, admin);
  const rowsFor = async (target: string) => (await audit(`target=${encodeURIComponent(target)}&limit=200`)).results;

  /** An admin request from a given address with a given request id. */
  const as = (method: 'POST' | 'PATCH', url: string, payload: object, extra: Record<string, string> = {}) => {
    const requestId = `req-${randomUUID()}`;
    return t.app
      .inject({ method, url, payload, headers: { ...admin, 'x-request-id': requestId, ...extra }, remoteAddress: '203.0.113.7' })
      .then((res) => ({ res, requestId }));
  };

  it('records a user created by an admin: who, from where, in which request, and the user after', async () => {
    const username = uniqueName();
    const { res, requestId } = await as('POST', '/api/v1/admin/users/', { username, password: 'long enough password', email: 'a@example.com' });
    expect(res.statusCode).toBe(201);
    const id = res.json().id as number;
    const rows = await rowsFor(`user:${id}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      id: expect.any(Number),
      actor: ADMIN.username,
      actor_id: adminId,
      action: 'user.create',
      target: `user:${id}`,
      before: null,
      after: expect.objectContaining({ id, username, email: 'a@example.com', is_admin: false }),
      request_id: requestId,
      client_address: '203.0.113.7',
      created_at: expect.any(String),
    });
    expect(JSON.stringify(rows[0])).not.toContain('password');
  });

  it('does not record a registration: only admins\' actions are audited', async () => {
    const user = await newUser(t.app);
    expect(await rowsFor(`user:${user.id}`)).toEqual([]);
  });

  it('records a credit with the balance before and after', async () => {
    const user = await newUser(t.app);
    await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '10.00', reason: 'first' });
    const { res, requestId } = await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '2.50', reason: 'goodwill' });
    expect(res.statusCode).toBe(201);
    const [latest, first] = await rowsFor(`user:${user.id}`);
    expect(first).toMatchObject({ action: 'balance.credit', before: { balance: '0.00' }, after: { balance: '10.00' } });
    expect(latest).toMatchObject({
      action: 'balance.credit',
      actor: ADMIN.username,
      request_id: requestId,
      before: { balance: '10.00' },
      after: { balance: '12.50', amount: '2.50', reason: 'goodwill', transaction_id: res.json().transaction_id },
    });
  });

  it('writes nothing when the change is rolled back or replayed', async () => {
    const user = await newUser(t.app);
    const largest = '9999999999.99';
    for (let i = 0; i < 100; i++) expect((await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: largest, reason: 'big' })).res.statusCode).toBe(201);
    const before = (await rowsFor(`user:${user.id}`)).length;
    expect(before).toBe(100);
    // The ledger refuses the credit after its transaction began: the audit row goes with it.
    const refused = await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '1.00', reason: 'one too many' });
    expectError(refused.res, 400, 'amount_too_large');
    const key = { 'idempotency-key': randomUUID() };
    await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '0.01', reason: 'once' }, key);
    await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '0.01', reason: 'once' }, key);
    const after = await rowsFor(`user:${user.id}`);
    expect(after).toHaveLength(101);
    expect(after.map((r) => r.request_id)).not.toContain(refused.requestId);
    expect(after[0]).toMatchObject({ after: { amount: '0.01', balance: '999999999999.01' } });
  });

  it('records an offer created and changed, with the offer before and after', async () => {
    const { res: created } = await as('POST', '/api/v1/admin/offers/', { name: uniqueName('offer'), price: '9.99', duration_days: 30 });
    const offer = created.json();
    await as('PATCH', `/api/v1/admin/offers/${offer.id}/`, { price: '12.00', is_active: false });
    const [update, create] = await rowsFor(`offer:${offer.id}`);
    expect(create).toMatchObject({ action: 'offer.create', before: null, after: { id: offer.id, price: '9.99', is_active: true } });
    expect(update).toMatchObject({
      action: 'offer.update',
      before: { price: '9.99', is_active: true },
      after: { price: '12.00', is_active: false, name: offer.name },
    });
  });

  it('refuses to change, delete or truncate audit rows, in the database itself', async () => {
    const user = await newUser(t.app);
    await as('POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '1.00', reason: 'kept' });
    const db = t.runtime.db;
    const target = `user:${user.id}`;
    await expect(sql`UPDATE audit_log SET actor = 'someone else' WHERE target = ${target}`.execute(db)).rejects.toThrow(/immutable/);
    await expect(sql`DELETE FROM audit_log WHERE target = ${target}`.execute(db)).rejects.toThrow(/immutable/);
    await expect(sql`TRUNCATE audit_log`.execute(db)).rejects.toThrow(/immutable/);
    expect(await rowsFor(target)).toEqual([expect.objectContaining({ actor: ADMIN.username, action: 'balance.credit' })]);
  });

  describe('the list', () => {
    let users: number[];
    let start: string;
    beforeAll(async () => {
      start = new Date(Date.now() - 1000).toISOString();
      users = [(await newUser(t.app)).id, (await newUser(t.app)).id];
      for (const id of users) {
        await as('POST', `/api/v1/admin/users/${id}/credit/`, { amount: '1.00', reason: 'a' });
        await as('POST', `/api/v1/admin/users/${id}/credit/`, { amount: '2.00', reason: 'b' });
        await as('POST', `/api/v1/admin/users/${id}/credit/`, { amount: '3.00', reason: 'c' });
      }
    });

    it('lists newest first and filters by actor, action and target', async () => {
      const page = await audit(`target=user:${users[1]}`);
      expect(page.count).toBe(3);
      expect(page.results.map((r) => r.after!.amount)).toEqual(['3.00', '2.00', '1.00']);
      const ids = page.results.map((r) => r.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));

      const credits = await audit('action=balance.credit&limit=200');
      expect(credits.results.every((r) => r.action === 'balance.credit')).toBe(true);
      const byRoot = await audit(`actor=${ADMIN.username}&action=balance.credit&limit=200`);
      expect(byRoot.count).toBe(credits.count);
      expect((await audit('actor=nobody')).count).toBe(0);
      expect((await audit(`action=offer.create&target=user:${users[0]}`)).count).toBe(0);
    });

    it('filters by time: since is inclusive, until exclusive', async () => {
      const mine = (await audit(`target=user:${users[0]}`)).results;
      const middle = mine[1]!.created_at;
      expect((await audit(`target=user:${users[0]}&since=${encodeURIComponent(start)}`)).count).toBe(3);
      const later = await audit(`target=user:${users[0]}&since=${encodeURIComponent(middle)}`);
      expect(later.results.map((r) => r.id)).toEqual(mine.filter((r) => r.created_at >= middle).map((r) => r.id));
      const earlier = await audit(`target=user:${users[0]}&until=${encodeURIComponent(middle)}`);
      expect(earlier.results.map((r) => r.id)).toEqual(mine.filter((r) => r.created_at < middle).map((r) => r.id));
      expect((await audit(`target=user:${users[0]}&until=${encodeURIComponent(start)}`)).count).toBe(0);
    });

    it('pages forward and back, with and without filters', async () => {
      await expectConsistentPaging<AuditRow>(t.app, `/api/v1/admin/audit/?action=balance.credit&since=${encodeURIComponent(start)}`, admin, {
        limit: 2,
        key: (r) => r.id,
      });
      await expectConsistentPaging<AuditRow>(t.app, `/api/v1/admin/audit/?target=user:${users[0]}`, admin, { limit: 1, key: (r) => r.id });
    });

    it.each(['since=yesterday', 'until=1', 'limit=0', 'cursor=@@', 'actor='])('answers 400 for ?%s', async (query) => {
      expectError(await t.app.inject({ method: 'GET', url: `/api/v1/admin/audit/?${query}`, headers: admin }), 400);
    });

    it('is for admins only', async () => {
      const user = await newUser(t.app);
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit/', headers: bearer(user.access) }), 403);
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit/' }), 401);
    });
  });
});
