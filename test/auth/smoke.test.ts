import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';

describe.each(backends)('auth on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend);
  });
  afterAll(async () => t?.close());

  it('registers a user who can read their profile', async () => {
    const user = await newUser(t.app);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(user.access) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id, username: user.username, is_admin: false });
  });
});
