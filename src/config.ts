// Environment → typed configuration. The only module that reads process.env.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Set → PostgreSQL through a pg pool; unset → embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Set → BullMQ queue, Redis status cache and Redis login counters; unset → in-process. */
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  role: Role;
  jwtSecret: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** How long a process trusts that a token's user still exists before asking the database again. */
  authUserCacheTtlMs: number;
  adminUsername: string | undefined;
  adminPassword: string | undefined;
  seedDemo: boolean;
  registrationEnabled: boolean;
  currency: string;
  logLevel: LogLevel;
  corsOrigin: string;
  trustProxy: boolean;
  authRateLimitPerMinute: number;
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  partnerUrl: string | undefined;
  partnerApiKey: string | undefined;
  partnerTimeoutMs: number;
  partnerSimLatencyMs: number;
  partnerSimFailureRate: number;
  activationRetryBaseMs: number;
  activationMaxAttempts: number;
  workerConcurrency: number;
  reconcileAfterMs: number;
  reconcileIntervalMs: number;
  statusCacheTtlSeconds: number;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw.replace(/\/+$/, '');
}

/** In embedded mode a missing JWT_SECRET is generated once and kept in DATA_DIR, so tokens survive restarts. */
function embeddedJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(read(env, 'DATA_DIR') ?? './data');
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const role = oneOf(env, 'ROLE', ['all', 'api', 'worker'] as const, 'all');
  if (role !== 'all' && (!databaseUrl || !redisUrl)) {
    throw new ConfigError(`ROLE=${role} needs DATABASE_URL and REDIS_URL: separate processes share work through PostgreSQL and Redis`);
  }

  let jwtSecret = read(env, 'JWT_SECRET');
  if (jwtSecret === undefined) {
    if (databaseUrl) throw new ConfigError('JWT_SECRET is required when DATABASE_URL is set');
    jwtSecret = embeddedJwtSecret(dataDir);
  }
  if (jwtSecret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');

  const adminUsername = read(env, 'ADMIN_USERNAME');
  const adminPassword = read(env, 'ADMIN_PASSWORD');
  if ((adminUsername === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together');
  }

  const currency = read(env, 'CURRENCY') ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError(`CURRENCY must be a 3-letter ISO code, got "${currency}"`);

  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: read(env, 'HOST') ?? '0.0.0.0',
    dataDir,
    databaseUrl,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    redisUrl,
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'offers',
    role,
    jwtSecret,
    accessTokenTtl: int(env, 'ACCESS_TOKEN_TTL', 900, 1),
    refreshTokenTtl: int(env, 'REFRESH_TOKEN_TTL', 7 * 24 * 3600, 1),
    authUserCacheTtlMs: int(env, 'AUTH_USER_CACHE_TTL_MS', 5000, 0, 600_000),
    adminUsername,
    adminPassword,
    seedDemo: bool(env, 'SEED_DEMO', true),
    registrationEnabled: bool(env, 'REGISTRATION_ENABLED', true),
    currency,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    corsOrigin: read(env, 'CORS_ORIGIN') ?? '*',
    trustProxy: bool(env, 'TRUST_PROXY', false),
    authRateLimitPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_MINUTE', 60, 1),
    loginMaxFailures: int(env, 'LOGIN_MAX_FAILURES', 5, 1),
    loginLockoutSeconds: int(env, 'LOGIN_LOCKOUT_SECONDS', 900, 1),
    partnerUrl: url(env, 'PARTNER_URL', ['http:', 'https:']),
    partnerApiKey: read(env, 'PARTNER_API_KEY'),
    partnerTimeoutMs: int(env, 'PARTNER_TIMEOUT_MS', 5000, 1),
    partnerSimLatencyMs: int(env, 'PARTNER_SIM_LATENCY_MS', 300, 0),
    partnerSimFailureRate: fraction(env, 'PARTNER_SIM_FAILURE_RATE', 0),
    activationRetryBaseMs: int(env, 'ACTIVATION_RETRY_BASE_MS', 1000, 1),
    activationMaxAttempts: int(env, 'ACTIVATION_MAX_ATTEMPTS', 5, 1, 100),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 16, 1, 1000),
    reconcileAfterMs: int(env, 'RECONCILE_AFTER_MS', 30_000, 1),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 5000, 10),
    statusCacheTtlSeconds: int(env, 'STATUS_CACHE_TTL_SECONDS', 3600, 1),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 100),
  };
}
