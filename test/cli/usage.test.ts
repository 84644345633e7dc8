import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { type CliBackend, CLI_TIMEOUT, cliBackend, runCli } from './run-cli.js';

describe.each(backends)('CLI migrate on %s', (backend) => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend(backend);
  });
  afterAll(async () => b?.cleanup());

  it('applies the migrations once, then reports the database up to date', async () => {
    const first = await runCli(['migrate'], b.env);
    expect(first).toMatchObject({ code: 0, stdout: 'Applied migration 001_initial\n' });
    const second = await runCli(['migrate'], b.env);
    expect(second).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
  }, CLI_TIMEOUT);
});

describe('CLI on a busy embedded database', () => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend('embedded');
  });
  afterAll(async () => b?.cleanup());

  it('refuses, in one line, to open an embedded database that a server holds', async () => {
    await b.withApp(async () => {
      const res = await runCli(['seed'], b.env);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^The embedded database in \S+ is in use by process \d+; stop it first/);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    });
  }, CLI_TIMEOUT);
});

describe('CLI usage', () => {
  // No command below reaches the database, so DATA_DIR may point nowhere.
  const env = { DATA_DIR: '/nonexistent/never-created', JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256', LOG_LEVEL: 'silent' };

  it('prints the usage on stdout and exits 0 for help', async () => {
    const res = await runCli(['help'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: offers-api <command>/);
    for (const command of ['migrate', 'create-user USERNAME', 'credit USERNAME AMOUNT REASON', 'seed']) {
      expect(res.stdout).toContain(command);
    }
  }, CLI_TIMEOUT);

  it('exits 2 with the usage on stderr for an unknown command', async () => {
    const res = await runCli(['frobnicate'], env);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Unknown command: frobnicate\n\nUsage: offers-api/);
  }, CLI_TIMEOUT);

  it('exits 2 when a command is missing arguments or given an unknown option', async () => {
    const missing = await runCli(['credit', 'someone', '5.00'], env);
    expect(missing).toMatchObject({ code: 2, stderr: 'credit takes USERNAME AMOUNT REASON\nRun "offers-api help" for usage.\n' });
    const unknown = await runCli(['seed', '--userz', '5'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--userz'");
    const bad = await runCli(['seed', '--users', 'many'], env);
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('--users must be a whole number');
  }, CLI_TIMEOUT);

  it('reports a configuration error in one line, without a stack trace, and exits 1', async () => {
    const res = await runCli(['migrate'], { ...env, LOG_LEVEL: 'loud' });
    expect(res).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    });
  }, CLI_TIMEOUT);
});
