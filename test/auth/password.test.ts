// Changing the password: only with the current one, by the same rules as registration, and it ends
// every other session of the user while the one asking keeps working.
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { bearer, login, newUser } from '../helpers/api.js';
import { backends } from '../helpers/backends.js';
import { expectError, sharedApp } from '../helpers/checks.js';

const NEW_PASSWORD = 'a brand new passphrase';

const change = (app: FastifyInstance, access: string | undefined, payload: unknown) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/password/', headers: access ? bearer(access) : {}, payload: payload as object });
const attemptLogin = (app: FastifyInstance, username: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username, password } });
const account = (app: FastifyInstance, access: string) =>
  app.inject({ method: 'GET', url: '/api/v1/account/', headers: bearer(access) });
const refresh = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload: { refresh: token } });

describe.each(backends)('changing the password on %s', (backend) => {
  const t = sharedApp(backend);

  it('changes it: the old password no longer logs in, the new one does', async () => {
    const user = await newUser(t().app);
    const res = await change(t().app, user.access, { current_password: user.password, new_password: NEW_PASSWORD });
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expectError(await attemptLogin(t().app, user.username, user.password), 401, 'invalid_credentials');
    expect((await attemptLogin(t().app, user.username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('refuses a wrong current password with 403 wrong_password and changes nothing', async () => {
    const user = await newUser(t().app);
    const other = await login(t().app, user.username, user.password);
    const body = expectError(await change(t().app, user.access, { current_password: 'not my password', new_password: NEW_PASSWORD }), 403, 'wrong_password');
    expect(body.error).toMatch(/current password/i);
    expect((await attemptLogin(t().app, user.username, user.password)).statusCode).toBe(200);
    expectError(await attemptLogin(t().app, user.username, NEW_PASSWORD), 401, 'invalid_credentials');
    expect((await account(t().app, other.access)).statusCode).toBe(200);
    expect((await refresh(t().app, other.refresh)).statusCode).toBe(200);
  });

  it.each([
    ['too short', 'short', 'weak_password'],
    ['empty', '', 'weak_password'],
    ['too long', 'x'.repeat(1025), 'invalid_password'],
  ])('refuses a new password that is %s with 400 %s and keeps the old one', async (_label, next, code) => {
    const user = await newUser(t().app);
    const body = expectError(await change(t().app, user.access, { current_password: user.password, new_password: next }), 400, code);
    expect(body.error).toMatch(/password/);
    expect((await attemptLogin(t().app, user.username, user.password)).statusCode).toBe(200);
  });

  it('ends every other session of the user at once, keeps the current one, and leaves other users alone', async () => {
    const user = await newUser(t().app);
    const second = await login(t().app, user.username, user.password);
    const third = await login(t().app, user.username, user.password);
    const bystander = await newUser(t().app);

    const res = await change(t().app, user.access, { current_password: user.password, new_password: NEW_PASSWORD });
    expect(res.statusCode, res.body).toBe(204);

    for (const other of [second, third]) {
      expectError(await account(t().app, other.access), 401, 'invalid_token');
      expectError(await refresh(t().app, other.refresh), 401);
    }
    expect((await account(t().app, user.access)).statusCode).toBe(200);
    const rotated = await refresh(t().app, user.refresh);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect((await account(t().app, rotated.json().access)).statusCode).toBe(200);
    expect((await account(t().app, bystander.access)).statusCode).toBe(200);
  });

  it('answers 401 without an access token or with a bad one', async () => {
    const payload = { current_password: 'whatever it is', new_password: NEW_PASSWORD };
    expectError(await change(t().app, undefined, payload), 401);
    expectError(await change(t().app, 'not-a-token', payload), 401);
  });

  // The API drops fields it does not know (removeAdditional, as on every route): one naming another user is ignored.
  it('ignores an extra field naming another user and changes only the caller’s password', async () => {
    const user = await newUser(t().app);
    const victim = await newUser(t().app);
    const payload = { current_password: user.password, new_password: NEW_PASSWORD, user_id: victim.id, username: victim.username };
    expect((await change(t().app, user.access, payload)).statusCode).toBe(204);
    expect((await attemptLogin(t().app, victim.username, victim.password)).statusCode).toBe(200);
    expect((await attemptLogin(t().app, user.username, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it.each([
    ['no current_password', { new_password: NEW_PASSWORD }],
    ['no new_password', { current_password: 'correct horse battery' }],
    ['an empty body', {}],
    ['a number for a password', { current_password: 'correct horse battery', new_password: 12345678 }],
  ])('refuses %s with 400 validation_error and changes nothing', async (_label, payload) => {
    const user = await newUser(t().app);
    expectError(await change(t().app, user.access, payload), 400, 'validation_error');
    expect((await attemptLogin(t().app, user.username, user.password)).statusCode).toBe(200);
  });
});
