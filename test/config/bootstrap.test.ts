import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrap, DEMO_OFFERS } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { bearer, login, uniqueName } from '../helpers/api.js';
import { ADMIN, backendEnv, backends } from '../helpers/backends.js';

interface Started {
  runtime: Runtime;
  logs: Record<string, unknown>[];
}

/**
 * A runtime that logs into an array, on real storage (PGlite files in DATA_DIR, or the env's
 * PostgreSQL database) unless `inMemory` asks for a throw-away PGlite.
 */
async function start(env: Record<string, string>, inMemory = false): Promise<Started> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const runtime = await createRuntime(loadConfig(env), {
    log: pino({ level: 'info' }, sink),
    ...(inMemory && !env.DATABASE_URL ? { pgliteDir: 'memory://' } : {}),
  });
  return { runtime, logs };
}

async function offerNames(runtime: Runtime) {
  return (await runtime.db.selectFrom('offers').select('name').orderBy('id').execute()).map((o) => o.name);
}

async function admins(runtime: Runtime) {
  return (await runtime.db.selectFrom('users').select('username').where('is_admin', '=', true).orderBy('id').execute()).map((u) => u.username);
}

async function canLogIn(runtime: Runtime, username: string, password: string) {
  const app = await buildApp(runtime);
  try {
    const { access } = await login(app, username, password);
    const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });
    return profile.json().is_admin === true;
  } finally {
    await app.close();
  }
}

describe.each(backends)('bootstrap on %s', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function storage(overrides: Record<string, string>) {
    const { env, cleanup } = await backendEnv(backend);
    delete env.ADMIN_USERNAME;
    delete env.ADMIN_PASSWORD;
    cleanups.push(cleanup);
    return { ...env, ...overrides };
  }

  it('on a first start creates the demo offers and, on the embedded database, an admin whose random password is in an owner-only file and never in the log; a restart adds neither again', async () => {
    const env = await storage({ SEED_DEMO: 'true' });
    const first = await start(env);
    cleanups.push(() => first.runtime.close());
    // Two processes starting at the same moment must not seed twice or create two admins.
    await Promise.all([bootstrap(first.runtime), bootstrap(first.runtime)]);
    expect(await offerNames(first.runtime)).toEqual(DEMO_OFFERS.map((o) => o.name));
    const file = join(env.DATA_DIR!, 'admin-password');
    if (backend === 'embedded') {
      expect(await admins(first.runtime)).toEqual(['admin']);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const password = readFileSync(file, 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(12);
      expect(JSON.stringify(first.logs)).not.toContain(password);
      const created = first.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('created admin user'));
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ username: 'admin', file });
      expect(readdirSync(env.DATA_DIR!).filter((name) => name.startsWith('admin-password'))).toEqual(['admin-password']);
      expect(await canLogIn(first.runtime, 'admin', password)).toBe(true);
    } else {
      expect(await admins(first.runtime)).toEqual([]);
      expect(existsSync(file)).toBe(false);
      const hints = first.logs.filter((l) => l.level === 40 && String(l.msg).includes('offers-api create-user NAME --admin'));
      expect(hints.length).toBeGreaterThanOrEqual(1);
    }
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    await first.runtime.close();
    cleanups.pop();

    const second = await start(env);
    cleanups.push(() => second.runtime.close());
    await bootstrap(second.runtime);
    expect(await offerNames(second.runtime)).toEqual(DEMO_OFFERS.map((o) => o.name));
    expect(await admins(second.runtime)).toEqual(backend === 'embedded' ? ['admin'] : []);
    expect(second.logs.some((l) => String(l.msg).includes('created admin user'))).toBe(false);
    expect(existsSync(file) ? readFileSync(file, 'utf8') : undefined).toBe(before);
  }, 120_000);

  it('creates the admin named by ADMIN_USERNAME/ADMIN_PASSWORD, seeds nothing with SEED_DEMO=false, and never seeds a catalogue that has offers', async () => {
    const env = await storage({ SEED_DEMO: 'false', ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
    const { runtime, logs } = await start(env, true);
    cleanups.push(() => runtime.close());
    await bootstrap(runtime);
    expect(await admins(runtime)).toEqual([ADMIN.username]);
    expect(logs.some((l) => typeof l.password === 'string')).toBe(false);
    expect(await canLogIn(runtime, ADMIN.username, ADMIN.password)).toBe(true);
    expect(await offerNames(runtime)).toEqual([]);

    const own = uniqueName('offer');
    await runtime.db.insertInto('offers').values({ name: own, description: '', price: '3.00', duration_days: 1 }).execute();
    // The same database started again with SEED_DEMO=true and another admin configured.
    const restarted: Runtime = { ...runtime, config: loadConfig({ ...env, SEED_DEMO: 'true', ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'ops-password' }) };
    await bootstrap(restarted);
    expect(await offerNames(runtime)).toEqual([own]);
    expect(await admins(runtime)).toEqual([ADMIN.username, 'ops']);
    await bootstrap(restarted);
    expect(await admins(runtime)).toEqual([ADMIN.username, 'ops']);
  }, 60_000);
});
