import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, uniqueName } from '../helpers/api.js';
import { backends } from '../helpers/backends.js';
import { type CliBackend, CLI_TIMEOUT, cliBackend, runCli } from './run-cli.js';

describe.each(backends)('CLI create-user on %s', (backend) => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend(backend);
  });
  afterAll(async () => b?.cleanup());

  it('creates a user from OFFERS_PASSWORD who can log in and is not an admin', async () => {
    const username = uniqueName('cli');
    const res = await runCli(['create-user', username, '--email', 'cli@example.com'], { ...b.env, OFFERS_PASSWORD: 'from the environment' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^Created user ${username} \\(id \\d+\\)\\n$`));

    await b.withApp(async (app) => {
      const { access } = await login(app, username, 'from the environment');
      const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });
      expect(profile.json()).toMatchObject({ username, email: 'cli@example.com', is_admin: false });
      const admin = await app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(access) });
      expect(admin.statusCode).toBe(403);
      const account = await app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(access) });
      expect(account.json()).toMatchObject({ balance: '0.00' });
    });
  }, CLI_TIMEOUT);

  it('creates an admin with --admin and --password, who can use the admin API', async () => {
    const username = uniqueName('cli_admin');
    const res = await runCli(['create-user', username, '--admin', '--password', 'admin password'], b.env);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(new RegExp(`^Created admin ${username} `));

    await b.withApp(async (app) => {
      const { access } = await login(app, username, 'admin password');
      const admin = await app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(access) });
      expect(admin.statusCode).toBe(200);
    });
  }, CLI_TIMEOUT);

  it('rejects a weak password with the API message and exit code 1, and creates nobody', async () => {
    const username = uniqueName('cli_weak');
    const res = await runCli(['create-user', username, '--password', 'short'], b.env);
    expect(res).toMatchObject({ code: 1, stdout: '', stderr: 'password must be 8 to 1024 characters\n' });

    await b.withApp(async (app, db) => {
      const register = await app.inject({ method: 'POST', url: '/api/v1/auth/register/', payload: { username: uniqueName(), password: 'short' } });
      expect(register.json().error).toBe('password must be 8 to 1024 characters');
      expect(await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst()).toBeUndefined();
    });
  }, CLI_TIMEOUT);

  it('rejects a taken username and an invalid email with the API messages', async () => {
    const username = uniqueName('cli_dup');
    expect((await runCli(['create-user', username, '--password', 'long enough'], b.env)).code).toBe(0);
    const again = await runCli(['create-user', username.toUpperCase(), '--password', 'long enough'], b.env);
    expect(again).toMatchObject({ code: 1, stderr: 'A user with that username already exists\n' });
    const email = await runCli(['create-user', uniqueName('cli'), '--password', 'long enough', '--email', 'not-an-email'], b.env);
    expect(email).toMatchObject({ code: 1, stderr: 'email must be a valid email address\n' });
  }, CLI_TIMEOUT);

  it('asks for a password instead of prompting when stdin is not a terminal (exit code 2)', async () => {
    const res = await runCli(['create-user', uniqueName('cli')], b.env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('create-user needs a password: set OFFERS_PASSWORD, pass --password, or run it in a terminal');
  }, CLI_TIMEOUT);
});
