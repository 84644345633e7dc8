import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OFFERS } from '../../src/bootstrap.js';
import { backends } from '../helpers/backends.js';
import { type CliBackend, CLI_TIMEOUT, cliBackend, runCli } from './run-cli.js';

describe.each(backends)('CLI seed on %s', (backend) => {
  let b: CliBackend;
  // The CLI never calls the partner, so it runs without the partner settings the server needs.
  let env: Record<string, string>;
  beforeAll(async () => {
    b = await cliBackend(backend);
    const { PARTNER_SIMULATOR: _simulator, ...rest } = b.env;
    env = rest;
  });
  afterAll(async () => b?.cleanup());

  it('adds the demo offers to an empty catalogue, once', async () => {
    const first = await runCli(['seed'], env);
    expect(first).toMatchObject({ code: 0, stdout: `Added ${DEMO_OFFERS.length} demo offers.\n` });
    const second = await runCli(['seed'], env);
    expect(second).toMatchObject({ code: 0, stdout: 'The catalogue already has offers; no demo offers added.\n' });
    await b.withApp(async (_app, db) => {
      const offers = await db.selectFrom('offers').select('name').orderBy('id').execute();
      expect(offers.map((o) => o.name)).toEqual(DEMO_OFFERS.map((o) => o.name));
    });
  }, CLI_TIMEOUT);

  it('writes no benchmark data: bulk options are refused and the usage text does not offer them', async () => {
    const res = await runCli(['seed', '--users', '10', '--password', 'bench-password'], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Unknown option '--users'/);
    const help = await runCli(['help'], env);
    expect(help.stdout).not.toMatch(/--users|--history|bench/);
    await b.withApp(async (_app, db) => {
      const bench = await db.selectFrom('users').select('id').where('username', 'like', 'bench%').execute();
      expect(bench).toEqual([]);
    });
  }, CLI_TIMEOUT);
});
