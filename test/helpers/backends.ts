// Builds the app on each storage backend: embedded (PGlite in memory + in-process queue) and
// scaled (a fresh PostgreSQL database + Redis, when TEST_DATABASE_URL / TEST_REDIS_URL are set).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';

export type Backend = 'embedded' | 'postgres';

const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

if (process.env.CI === 'true' && (!databaseUrl || !redisUrl)) {
  throw new Error('CI=true requires TEST_DATABASE_URL and TEST_REDIS_URL: the suite must run on PostgreSQL and Redis too');
}

export const backends: Backend[] = databaseUrl ? ['embedded', 'postgres'] : ['embedded'];

export const ADMIN = { username: 'root', password: 'root-password' };

/** Creates an empty database next to TEST_DATABASE_URL and returns its URL and a dropper. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `offers_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Environment for a process or runtime on the given backend, with its own database and Redis keys. */
export async function backendEnv(backend: Backend): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offers-test-'));
  const env: Record<string, string> = {
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
    DATA_DIR: dataDir,
    // The API's tests answer the same whether or not web/dist was built; the web app's tests set their own.
    WEB_DIST_DIR: join(dataDir, 'no-web-app'),
    LOG_LEVEL: 'silent',
    SEED_DEMO: 'false',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    // Tests log in far more often than a person; tests of the limit itself override this.
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  };
  if (backend === 'embedded') return { env, cleanup: async () => {} };
  const database = await freshDatabase();
  env.DATABASE_URL = database.url;
  // Outside the embedded default the simulator must be asked for; tests of a real partner set PARTNER_URL.
  env.PARTNER_SIMULATOR = 'true';
  if (redisUrl) {
    env.REDIS_URL = redisUrl;
    env.REDIS_KEY_PREFIX = `offers-test-${randomBytes(6).toString('hex')}`;
  }
  return { env, cleanup: database.drop };
}

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The app with its activation worker running in-process (ROLE=all), unless `worker` is false.
 * `clock`: the lifecycle's time, for tests that move it.
 */
export async function startApp(
  backend: Backend,
  overrides: Record<string, string> = {},
  options: { worker?: boolean; clock?: Clock } = {},
): Promise<TestApp> {
  const { env, cleanup } = await backendEnv(backend);
  Object.assign(env, overrides);
  const runtime = await createRuntime(loadConfig(env), {
    ...(backend === 'embedded' ? { pgliteDir: 'memory://' } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await bootstrap(runtime);
  if (options.worker !== false) runtime.startWorker();
  const app = await buildApp(runtime);
  await app.ready();
  return {
    app,
    runtime,
    env,
    async close() {
      await app.close();
      await runtime.close();
      await cleanup();
    },
  };
}
