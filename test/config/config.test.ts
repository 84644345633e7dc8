import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'a-test-secret-that-is-at-least-32-chars';
const tempDir = () => mkdtempSync(join(tmpdir(), 'offers-config-'));
const base = () => ({ JWT_SECRET: SECRET, DATA_DIR: tempDir() });

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      redisUrl: undefined,
      jwtSecret: SECRET,
      accessTokenTtl: 900,
      refreshTokenTtl: 7 * 24 * 3600,
      adminUsername: undefined,
      adminPassword: undefined,
      seedDemo: true,
      registrationEnabled: true,
      currency: 'EUR',
      logLevel: 'info',
      loginMaxFailures: 5,
    });
  });

  it('reads every setting it is given', () => {
    const dataDir = tempDir();
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://app@db.internal:5432/offers',
      REDIS_URL: 'redis://cache.internal:6379',
      JWT_SECRET: SECRET,
      ACCESS_TOKEN_TTL: '60',
      REFRESH_TOKEN_TTL: '3600',
      ADMIN_USERNAME: 'ops',
      ADMIN_PASSWORD: 'ops-password',
      SEED_DEMO: 'false',
      REGISTRATION_ENABLED: 'no',
      CURRENCY: 'USD',
      LOG_LEVEL: 'debug',
      LOGIN_MAX_FAILURES: '3',
      CORS_ORIGIN: 'https://shop.example',
      PARTNER_URL: 'https://partner.example/api/',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: 'postgres://app@db.internal:5432/offers',
      redisUrl: 'redis://cache.internal:6379',
      accessTokenTtl: 60,
      refreshTokenTtl: 3600,
      adminUsername: 'ops',
      adminPassword: 'ops-password',
      seedDemo: false,
      registrationEnabled: false,
      currency: 'USD',
      logLevel: 'debug',
      loginMaxFailures: 3,
      corsOrigin: 'https://shop.example',
      partnerUrl: 'https://partner.example/api',
    });
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({ ...base(), PORT: '', SEED_DEMO: '   ', DATABASE_URL: '', CURRENCY: ' ' });
    expect(config).toMatchObject({ port: 3000, seedDemo: true, databaseUrl: undefined, currency: 'EUR' });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/offers'],
    ['REDIS_URL', 'http://cache:6379'],
    ['JWT_SECRET', 'too-short'],
    ['ACCESS_TOKEN_TTL', '0'],
    ['ACCESS_TOKEN_TTL', '15m'],
    ['REFRESH_TOKEN_TTL', '-5'],
    ['SEED_DEMO', 'maybe'],
    ['REGISTRATION_ENABLED', 'perhaps'],
    ['CURRENCY', 'euro'],
    ['CURRENCY', 'eur'],
    ['LOG_LEVEL', 'loud'],
    ['LOGIN_MAX_FAILURES', '0'],
    ['LOGIN_MAX_FAILURES', 'five'],
    ['AUTH_RATE_LIMIT_PER_MINUTE', 'lots'],
    ['DATABASE_POOL_SIZE', '0'],
    ['ROLE', 'boss'],
  ])('stops with one line naming %s for the value %j', (name, value) => {
    const err = configError({ ...base(), [name]: value });
    expect(err.message).toContain(name);
    expect(err.message).not.toContain('\n');
  });

  it('needs ADMIN_USERNAME and ADMIN_PASSWORD together', () => {
    expect(configError({ ...base(), ADMIN_USERNAME: 'ops' }).message).toMatch(/ADMIN_PASSWORD/);
    expect(configError({ ...base(), ADMIN_PASSWORD: 'secret-password' }).message).toMatch(/ADMIN_USERNAME/);
  });

  it('refuses PostgreSQL without PARTNER_URL, so a forgotten partner never means taking money and provisioning nothing', () => {
    const postgres = { ...base(), DATABASE_URL: 'postgres://app@db/offers' };
    const err = configError(postgres);
    expect(err.message).toMatch(/PARTNER_URL/);
    expect(err.message).toMatch(/PARTNER_SIMULATOR=true/);
    expect(err.message).not.toContain('\n');
    expect(configError({ ...postgres, PARTNER_SIMULATOR: 'false' }).message).toMatch(/PARTNER_URL/);
    expect(loadConfig({ ...postgres, PARTNER_SIMULATOR: 'true' }).partnerUrl).toBeUndefined();
    expect(loadConfig({ ...postgres, PARTNER_URL: 'http://partner:8080' }).partnerUrl).toBe('http://partner:8080');
  });

  it('runs the simulator on the embedded default unless PARTNER_SIMULATOR=false, which then needs PARTNER_URL', () => {
    expect(loadConfig(base()).partnerUrl).toBeUndefined();
    expect(configError({ ...base(), PARTNER_SIMULATOR: 'false' }).message).toMatch(/PARTNER_URL/);
    expect(configError({ ...base(), PARTNER_SIMULATOR: 'sometimes' }).message).toMatch(/PARTNER_SIMULATOR/);
  });

  it('lets the CLI, which never calls the partner, work on PostgreSQL without partner settings', () => {
    const config = loadConfig({ ...base(), DATABASE_URL: 'postgres://app@db/offers' }, { partnerRequired: false });
    expect(config.databaseUrl).toBe('postgres://app@db/offers');
  });

  it('adds demo offers by default only on the embedded database', () => {
    expect(loadConfig(base()).seedDemo).toBe(true);
    const postgres = { ...base(), DATABASE_URL: 'postgres://app@db/offers', PARTNER_SIMULATOR: 'true' };
    expect(loadConfig(postgres).seedDemo).toBe(false);
    expect(loadConfig({ ...postgres, SEED_DEMO: 'true' }).seedDemo).toBe(true);
  });

  it('requires JWT_SECRET when DATABASE_URL is set', () => {
    const err = configError({ DATA_DIR: tempDir(), DATABASE_URL: 'postgres://app@db/offers' });
    expect(err.message).toMatch(/JWT_SECRET/);
  });

  it('generates a JWT secret once in DATA_DIR when none is set, and reuses it', () => {
    const dataDir = join(tempDir(), 'nested');
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(loadConfig({ DATA_DIR: dataDir }).jwtSecret).toBe(first.jwtSecret);
    expect(loadConfig({ DATA_DIR: tempDir() }).jwtSecret).not.toBe(first.jwtSecret);
  });

  it('prefers JWT_SECRET over a generated one and writes no file', () => {
    const dataDir = tempDir();
    expect(loadConfig({ DATA_DIR: dataDir, JWT_SECRET: SECRET }).jwtSecret).toBe(SECRET);
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
  });
});

describe('the server with a wrong setting', () => {
  it('exits with status 1 and one line naming the variable', async () => {
    const run = promisify(execFile);
    const env = { PATH: process.env.PATH ?? '', DATA_DIR: tempDir(), PORT: 'eighty', LOG_LEVEL: 'silent' };
    const failure = await run(resolve('node_modules/.bin/tsx'), ['src/server.ts'], { env, timeout: 60_000 }).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failure?.code).toBe(1);
    const lines = String(failure?.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
  });
});
