import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newUser, type Offer, type TestUser, uniqueName } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { getPage, MANY_LOGINS } from '../helpers/checks.js';

// The buyers' catalogue is kept in memory; every admin change must show in the very next read.
describe.each(backends)('catalogue kept in memory on %s', (backend) => {
  let t: TestApp;
  let admin: Record<string, string>;
  let user: TestUser;
  beforeAll(async () => {
    t = await startApp(backend, MANY_LOGINS, { worker: false });
    admin = bearer(await adminToken(t.app));
    user = await newUser(t.app);
  });
  afterAll(async () => t?.close());

  const catalogue = async () => (await getPage<Offer>(t.app, '/api/v1/offers/?limit=200', bearer(user.access))).results;
  const patch = (id: number, payload: object) =>
    t.app.inject({ method: 'PATCH', url: `/api/v1/admin/offers/${id}/`, headers: admin, payload });

  it('shows an offer created, repriced, deactivated and reactivated by an admin in the next read', async () => {
    await catalogue();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/admin/offers/',
      headers: admin,
      payload: { name: uniqueName('offer'), price: '10.00', duration_days: 30 },
    });
    expect(res.statusCode).toBe(201);
    const offer: Offer = res.json();
    expect((await catalogue()).find((o) => o.id === offer.id)?.price).toBe('10.00');

    expect((await patch(offer.id, { price: '12.50' })).statusCode).toBe(200);
    expect((await catalogue()).find((o) => o.id === offer.id)?.price).toBe('12.50');

    expect((await patch(offer.id, { is_active: false })).statusCode).toBe(200);
    expect((await catalogue()).map((o) => o.id)).not.toContain(offer.id);

    expect((await patch(offer.id, { is_active: true })).statusCode).toBe(200);
    expect((await catalogue()).map((o) => o.id)).toContain(offer.id);
  });
});
