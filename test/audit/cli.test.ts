// The CLI's admin commands land in the audit trail too, with the operating-system user as actor.
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, uniqueName } from '../helpers/api.js';
import { ADMIN, backends } from '../helpers/backends.js';
import { type CliBackend, CLI_TIMEOUT, cliBackend, runCli } from '../cli/run-cli.js';

describe.each(backends)('CLI audit trail on %s', (backend) => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend(backend);
    expect((await runCli(['migrate'], b.env)).code).toBe(0);
  }, CLI_TIMEOUT);
  afterAll(async () => b?.cleanup());

  it('records create-user, credit and seed as cli:<os user>, and a replayed credit once', async () => {
    const username = uniqueName('cli_audit');
    expect((await runCli(['seed'], b.env)).stdout).toMatch(/^Added \d+ demo offers/);
    expect((await runCli(['create-user', username, '--password', 'audited password'], b.env)).code).toBe(0);
    expect((await runCli(['credit', username, '7.50', 'welcome', '--idempotency-key', 'k-1'], b.env)).code).toBe(0);
    expect((await runCli(['credit', username, '7.50', 'welcome', '--idempotency-key', 'k-1'], b.env)).code).toBe(0);
    await b.withApp(async (app) => {
      const { access } = await login(app, ADMIN.username, ADMIN.password);
      const { access: mine } = await login(app, username, 'audited password');
      const me = (await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(mine) })).json();
      const res = await app.inject({ method: 'GET', url: `/api/v1/admin/audit/?target=user:${me.id}`, headers: bearer(access) });
      expect(res.statusCode).toBe(200);
      const actor = `cli:${userInfo().username}`;
      expect(res.json().results).toEqual([
        expect.objectContaining({
          actor,
          actor_id: null,
          action: 'balance.credit',
          before: { balance: '0.00' },
          after: expect.objectContaining({ balance: '7.50', amount: '7.50', reason: 'welcome' }),
          request_id: null,
          client_address: null,
        }),
        expect.objectContaining({ actor, action: 'user.create', after: expect.objectContaining({ username, is_admin: false }) }),
      ]);
      const offers = (await app.inject({ method: 'GET', url: '/api/v1/admin/offers/', headers: bearer(access) })).json().results;
      const seeded = await app.inject({ method: 'GET', url: `/api/v1/admin/audit/?action=offer.create&actor=${encodeURIComponent(actor)}`, headers: bearer(access) });
      expect(seeded.json().results.map((r: { target: string }) => r.target).sort()).toEqual(offers.map((o: { id: number }) => `offer:${o.id}`).sort());
      expect(offers.length).toBeGreaterThan(0);
    });
  }, CLI_TIMEOUT);
});
