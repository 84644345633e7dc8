import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, uniqueName } from '../helpers/api.js';
import { startApp, type TestApp } from '../helpers/backends.js';

// Redis only speeds things up: with it unreachable, people can still register, log in and be refused.
describe('auth while Redis is unreachable', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('embedded', { REDIS_URL: 'redis://127.0.0.1:1' }, { worker: false });
  });
  afterAll(async () => t?.close());

  it('still registers, logs in and answers 401 for a wrong password', async () => {
    const username = uniqueName();
    const password = 'correct horse battery';
    const reg = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register/', payload: { username, password } });
    expect(reg.statusCode).toBe(201);
    const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username, password: 'nope nope' } });
    expect(wrong.statusCode).toBe(401);
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username, password } });
    expect(ok.statusCode).toBe(200);
    const profile = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(ok.json().access) });
    expect(profile.json().username).toBe(username);
  });
});
