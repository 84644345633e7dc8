import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newUser, type Offer, type TestUser, uniqueName } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage } from '../helpers/checks.js';

export function adminOfferTests(app: () => TestApp) {
  describe('offers', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    let user: TestUser;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
      user = await newUser(t.app);
    });

    const create = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/admin/offers/', headers: admin, payload });
    const patch = (id: number | string, payload: unknown) =>
      t.app.inject({ method: 'PATCH', url: `/api/v1/admin/offers/${id}/`, headers: admin, payload: payload as object });
    const catalogueIds = async () =>
      (await getPage<Offer>(t.app, '/api/v1/offers/?limit=200', bearer(user.access))).results.map((o) => o.id);
    const userView = (id: number) => t.app.inject({ method: 'GET', url: `/api/v1/offers/${id}/`, headers: bearer(user.access) });

    async function created(fields: Partial<Offer> = {}): Promise<Offer> {
      const res = await create({ name: uniqueName('offer'), description: 'fast', price: '20.00', duration_days: 30, ...fields });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    }

    it('creates an offer, active by default, that buyers see at once', async () => {
      const name = uniqueName('offer');
      const res = await create({ name, description: 'Internet 100', price: '19.9', duration_days: 30 });
      expect(res.statusCode).toBe(201);
      const offer = res.json();
      expect(offer).toEqual({ id: expect.any(Number), name, description: 'Internet 100', price: '19.90', duration_days: 30, is_active: true });
      expect((await userView(offer.id)).json()).toEqual(offer);
    });

    it('creates an inactive offer that only admins see', async () => {
      const offer = await created({ is_active: false });
      expect(offer.is_active).toBe(false);
      expect(await catalogueIds()).not.toContain(offer.id);
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/admin/offers/${offer.id}/`, headers: admin });
      expect(res.json()).toEqual(offer);
    });

    it('defaults the description to empty', async () => {
      const res = await create({ name: uniqueName('offer'), price: '1.00', duration_days: 1 });
      expect(res.json().description).toBe('');
    });

    it.each([
      ['a price of "0.00"', { price: '0.00' }],
      ['a price of "0"', { price: '0' }],
      ['a negative price', { price: '-1.00' }],
      ['a numeric price', { price: 20 }],
      ['a price with 3 decimals', { price: '1.005' }],
      ['zero days', { duration_days: 0 }],
      ['fractional days', { duration_days: 1.5 }],
      ['days as a string', { duration_days: '30' }],
      ['an empty name', { name: '' }],
      ['no name', { name: undefined }],
      ['an unknown field', { colour: 'red' }],
    ])('refuses %s with 400 and creates nothing', async (_label, fields) => {
      const before = (await getPage<Offer>(t.app, '/api/v1/admin/offers/?limit=1', admin)).count;
      const payload = { name: uniqueName('offer'), price: '5.00', duration_days: 5, ...fields };
      const res = await create(JSON.parse(JSON.stringify(payload)));
      if ('colour' in fields && res.statusCode === 201) {
        // Unknown fields may be dropped instead of refused; they must never be stored or echoed.
        expect(res.json()).not.toHaveProperty('colour');
        return;
      }
      expectError(res, 400);
      expect((await getPage<Offer>(t.app, '/api/v1/admin/offers/?limit=1', admin)).count).toBe(before);
    });

    it('changes any field with PATCH and leaves the others alone', async () => {
      const offer = await created();
      const res = await patch(offer.id, { price: '25.50', duration_days: 60 });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ...offer, price: '25.50', duration_days: 60 });
      const renamed = await patch(offer.id, { name: 'Renamed', description: 'new words' });
      expect(renamed.json()).toEqual({ ...offer, price: '25.50', duration_days: 60, name: 'Renamed', description: 'new words' });
      expect((await userView(offer.id)).json()).toEqual(renamed.json());
    });

    it('hides a deactivated offer from the catalogue list and detail, and shows it again when reactivated', async () => {
      const offer = await created();
      expect(await catalogueIds()).toContain(offer.id);
      const off = await patch(offer.id, { is_active: false });
      expect(off.statusCode).toBe(200);
      expect(off.json().is_active).toBe(false);
      expect(await catalogueIds()).not.toContain(offer.id);
      expectError(await userView(offer.id), 404, 'not_found');

      const adminList = await getPage<Offer>(t.app, '/api/v1/admin/offers/?limit=200', admin);
      expect(adminList.results).toContainEqual({ ...offer, is_active: false });

      expect((await patch(offer.id, { is_active: true })).statusCode).toBe(200);
      expect((await userView(offer.id)).statusCode).toBe(200);
    });

    it.each([
      ['an empty body', {}],
      ['a price of "0.00"', { price: '0.00' }],
      ['a null name', { name: null }],
      ['is_active as a string', { is_active: 'false' }],
    ])('refuses a PATCH with %s with 400 and changes nothing', async (_label, payload) => {
      const offer = await created();
      expectError(await patch(offer.id, payload), 400);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/offers/${offer.id}/`, headers: admin })).json()).toEqual(offer);
    });

    it('answers 404 when patching or reading an unknown offer and 400 for a malformed id', async () => {
      expectError(await patch(2147483647, { name: 'x' }), 404, 'not_found');
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/admin/offers/2147483647/', headers: admin }), 404);
      expectError(await patch('abc', { name: 'x' }), 400);
    });

    it('lists active and inactive offers, paged forward and back', async () => {
      const active = await created();
      const inactive = await created({ is_active: false });
      const offers = await expectConsistentPaging<Offer>(t.app, '/api/v1/admin/offers/', admin, { limit: 3, key: (o) => o.id });
      expect(offers).toContainEqual(active);
      expect(offers).toContainEqual(inactive);
    });
  });
}
