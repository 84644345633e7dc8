// Starts the servers the browser tests use, from the build (dist/server.js serving web/dist), each
// on its own port and data, and hands their addresses to the tests through E2E_SERVERS.
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from '../helpers/backends.js';
import { ServerProcess, repoRoot } from '../helpers/processes.js';
import type { ServerInfo, ServerName } from './servers.js';

const FROM_BUILD = [process.execPath, 'dist/server.js'];
/** Generous: the machine running the tests may be busy with other work. */
const START_TIMEOUT_MS = 180_000;
const LISTENING = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/;

/** The servers started, so that all of them are stopped at the end, whatever happened. */
class Servers {
  readonly all: ServerProcess[] = [];

  async start(name: string, env: Record<string, string>): Promise<ServerProcess> {
    const proc = new ServerProcess(name, { ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' }, FROM_BUILD);
    this.all.push(proc);
    await proc.waitForLog((line) => line.msg === 'started', 'start-up', START_TIMEOUT_MS);
    const listening = proc.logs().find((line) => typeof line.msg === 'string' && LISTENING.test(line.msg));
    if (listening) proc.port = Number(LISTENING.exec(listening.msg as string)![1]);
    return proc;
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((proc) => proc.kill('SIGTERM', 15_000).catch(() => undefined)));
  }
}

/** The simulated partner answers after this long: long enough to see an activation in progress. */
const PARTNER_LATENCY_MS = '600';

function common(dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    WEB_DIST_DIR: join(repoRoot, 'web/dist'),
    PARTNER_SIM_LATENCY_MS: PARTNER_LATENCY_MS,
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    MALLOC_MMAP_THRESHOLD_: '131072',
  };
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const processes = new Servers();
  const cleanups: (() => Promise<void> | void)[] = [];
  const servers: Partial<Record<ServerName, ServerInfo>> = {};

  async function embedded(name: ServerName, extra: Record<string, string> = {}): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), `offers-e2e-${name}-`));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const proc = await processes.start(name, { ...common(dataDir), ...extra });
    // The embedded default makes `admin` with a random password, kept in DATA_DIR/admin-password.
    const password = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
    servers[name] = { url: proc.url, admin: { username: 'admin', password } };
  }

  try {
    await Promise.all([embedded('embedded'), embedded('failing', { PARTNER_SIM_FAILURE_RATE: '1' })]);
    if (process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL) {
      const database = await freshDatabase();
      cleanups.push(database.drop);
      const dataDir = mkdtempSync(join(tmpdir(), 'offers-e2e-postgres-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const admin = { username: 'e2e-admin', password: randomBytes(12).toString('base64url') };
      const env = {
        ...common(dataDir),
        DATABASE_URL: database.url,
        REDIS_URL: process.env.TEST_REDIS_URL,
        REDIS_KEY_PREFIX: `offers-e2e-${randomBytes(6).toString('hex')}`,
        JWT_SECRET: randomBytes(32).toString('hex'),
        PARTNER_SIMULATOR: 'true',
        SEED_DEMO: 'true',
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
      };
      // The API first: it migrates and seeds; the worker then finds the schema in place.
      const api = await processes.start('postgres-api', { ...env, ROLE: 'api' });
      await processes.start('postgres-worker', { ...env, ROLE: 'worker' });
      servers.postgres = { url: api.url, admin };
    }
  } catch (err) {
    await processes.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw err;
  }

  process.env.E2E_SERVERS = JSON.stringify(servers);
  return async () => {
    await processes.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}
