// Everything a process needs besides HTTP: the database, Redis, services. Built once per process.
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { LoginThrottle } from './auth/login-throttle.js';
import { AuthService } from './auth/service.js';
import { AccessTokens } from './auth/tokens.js';
import { type CounterStore, MemoryCounterStore, RedisCounterStore } from './cache/counters.js';
import { connectRedis } from './cache/redis.js';
import type { Config } from './config.js';
import { type Database, type DatabaseKind, embeddedDir, openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';

export interface Runtime {
  config: Config;
  log: Logger;
  db: Database;
  dbKind: DatabaseKind;
  redis: Redis | undefined;
  counters: CounterStore;
  tokens: AccessTokens;
  auth: AuthService;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Overrides where PGlite keeps its files ('memory://' in tests). */
  pgliteDir?: string;
  log?: Logger;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'offers-api', role: config.role } });
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createLogger(config);
  const { db, kind } = openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: options.pgliteDir ?? embeddedDir(config.dataDir),
    poolSize: config.databasePoolSize,
  });
  const applied = await migrateToLatest(db);
  if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations');

  const redis = config.redisUrl ? connectRedis(config.redisUrl, 'cache') : undefined;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const counters = redis ? new RedisCounterStore(redis, config.redisKeyPrefix) : new MemoryCounterStore();
  const tokens = new AccessTokens(config.jwtSecret, config.accessTokenTtl);
  const throttle = new LoginThrottle(counters, config.loginMaxFailures, config.loginLockoutSeconds);
  const auth = new AuthService(db, tokens, throttle, config.refreshTokenTtl);

  return {
    config,
    log,
    db,
    dbKind: kind,
    redis,
    counters,
    tokens,
    auth,
    async close() {
      redis?.disconnect();
      await db.destroy();
    },
  };
}
