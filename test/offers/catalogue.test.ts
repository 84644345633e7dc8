import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newOffer, newUser, type Offer, type TestUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage, MANY_LOGINS } from '../helpers/checks.js';

const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

describe.each(backends)('offer catalogue on %s', (backend) => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await startApp(backend, MANY_LOGINS, { worker: false });
    user = await newUser(t.app);
  });
  afterAll(async () => t?.close());

  const get = (url: string, headers: Record<string, string> = bearer(user.access)) => t.app.inject({ method: 'GET', url, headers });
  const deactivate = async (id: number) => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/offers/${id}/`,
      headers: bearer(await adminToken(t.app)),
      payload: { is_active: false },
    });
    expect(res.statusCode).toBe(200);
  };

  it('lists active offers with their fields and leaves inactive ones out', async () => {
    const active = await newOffer(t.app, { price: '7.5', duration_days: 7 });
    const hidden = await newOffer(t.app, { is_active: false });
    const page = await getPage<Offer>(t.app, '/api/v1/offers/?limit=200', bearer(user.access));
    expect(page.results).toContainEqual({
      id: active.id,
      name: active.name,
      description: 'test offer',
      price: '7.50',
      duration_days: 7,
      is_active: true,
    });
    expect(page.results.map((o) => o.id)).not.toContain(hidden.id);
    expect(page.results.every((o) => o.is_active)).toBe(true);
    const { n } = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM offers WHERE is_active`.execute(t.runtime.db)).rows[0]!;
    expect(page.count).toBe(n);
  });

  it('shows one active offer', async () => {
    const offer = await newOffer(t.app, { price: '12.00' });
    const res = await get(`/api/v1/offers/${offer.id}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: offer.id, name: offer.name, description: 'test offer', price: '12.00', duration_days: 30, is_active: true });
  });

  it('answers 404 for an unknown id and for an inactive offer', async () => {
    expectError(await get('/api/v1/offers/2147483647/'), 404, 'not_found');
    const offer = await newOffer(t.app);
    await deactivate(offer.id);
    expectError(await get(`/api/v1/offers/${offer.id}/`), 404, 'not_found');
  });

  it.each(['abc', '0', '-1', '1.5', '2147483648', '99999999999999999999'])('answers 400 for the malformed id %s', async (id) => {
    expectError(await get(`/api/v1/offers/${id}/`), 400);
  });

  it('needs a token for the list and for one offer', async () => {
    const offer = await newOffer(t.app);
    expectError(await get('/api/v1/offers/', {}), 401, 'not_authenticated');
    expectError(await get(`/api/v1/offers/${offer.id}/`, {}), 401, 'not_authenticated');
  });

  it('walks the catalogue forward and back with cursors, in id order', async () => {
    for (let i = 0; i < 5; i++) await newOffer(t.app);
    const offers = await expectConsistentPaging<Offer>(t.app, '/api/v1/offers/', bearer(user.access), { limit: 2, key: (o) => o.id });
    expect(offers.length).toBeGreaterThanOrEqual(5);
    expect(offers.map((o) => o.id)).toEqual([...offers.map((o) => o.id)].sort((a, b) => a - b));
  });

  it('pages 50 offers by default and at most 200', async () => {
    await sql`INSERT INTO offers (name, description, price, duration_days)
              SELECT 'bulk ' || i, '', 1.00, 1 FROM generate_series(1, 60) AS i`.execute(t.runtime.db);
    const first = await getPage<Offer>(t.app, '/api/v1/offers/', bearer(user.access));
    expect(first.count).toBeGreaterThan(50);
    expect(first.results).toHaveLength(50);
    expect(first.next).not.toBeNull();
    const max = await getPage<Offer>(t.app, '/api/v1/offers/?limit=200', bearer(user.access));
    expect(max.results).toHaveLength(Math.min(200, max.count));
    expectError(await get('/api/v1/offers/?limit=201'), 400, 'validation_error');
  });

  it.each([
    ['limit=0'],
    ['limit=-1'],
    ['limit=abc'],
    ['limit=1.5'],
    ['limit='],
    ['cursor=not-a-cursor'],
    [`cursor=${cursorOf('x:5')}`],
    [`cursor=${cursorOf('n:-5')}`],
    [`cursor=${cursorOf('n:9999999999999999')}`],
    [`cursor=${'a'.repeat(201)}`],
  ])('answers 400 for ?%s', async (query) => {
    expectError(await get(`/api/v1/offers/?${query}`), 400);
  });
});
