// Environment → typed configuration. The only module that reads process.env.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatchLimits } from './db/group-commit.js';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Set → PostgreSQL through a pg pool; unset → embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** A PostgreSQL query unanswered this long fails as unavailable and its connection is closed. */
  databaseQueryTimeoutMs: number;
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
  /** The built web app (index.html and assets/) served at `/`; missing → the API answers alone. */
  webDistDir: string;
  /** false, true (every hop: warned about at start-up), a hop count, or the proxies' addresses/CIDRs. */
  trustProxy: TrustProxy;
  authRateLimitPerMinute: number;
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  /** Unset → the built-in simulator, which only the embedded default or PARTNER_SIMULATOR=true allows. */
  partnerUrl: string | undefined;
  partnerApiKey: string | undefined;
  partnerTimeoutMs: number;
  partnerSimLatencyMs: number;
  partnerSimFailureRate: number;
  activationRetryBaseMs: number;
  activationMaxAttempts: number;
  activationRetryMaxMs: number;
  activationDeadlineMs: number;
  workerConcurrency: number;
  /** Purchases charged together: a batch waits at most maxWaitMs for company and holds at most maxSize. */
  chargeBatching: BatchLimits;
  reconcileAfterMs: number;
  reconcileIntervalMs: number;
  statusCacheTtlSeconds: number;
  lifecycle: LifecycleSettings;
  shutdownTimeoutMs: number;
  http: HttpLimits;
  stream: StreamSettings;
  /** Set → notifications are also emailed through this SMTP server; unset → the in-app feed only. */
  smtpUrl: string | undefined;
  mailFrom: string | undefined;
  smtpTimeoutMs: number;
  emailMaxAttempts: number;
  emailRetryBaseMs: number;
  emailRetryMaxMs: number;
  notificationsIntervalMs: number;
  webhooks: WebhookSettings;
  metrics: MetricsSettings;
  /** glibc's malloc setting, read only to warn at start-up when it is missing. */
  mallocMmapThreshold: string | undefined;
}

/** Where the Prometheus metrics are served; neither set → nowhere, and nothing is collected. */
export interface MetricsSettings {
  /** Set → GET /metrics on the API's port answers a request bearing this token. */
  token: string | undefined;
  /** Set → a separate listener serves GET /metrics without a token (0 = any free port). */
  port: number | undefined;
  host: string;
}

/** The live event stream (GET /api/v1/events/stream/). */
export interface StreamSettings {
  heartbeatMs: number;
  /** How often each API process reads the outbox when no commit signal woke it sooner. */
  pollMs: number;
  maxPerUser: number;
  /** Bytes a stream may hold for a client that reads too slowly before it is dropped. */
  bufferBytes: number;
  ticketTtlSeconds: number;
}

/** Outbound webhooks (worker role): timeouts, the retry schedule and which addresses may be called. */
export interface WebhookSettings {
  timeoutMs: number;
  retryBaseMs: number;
  maxAttempts: number;
  disableAfterHours: number;
  /** Allows loopback, private and link-local targets, and plain http:, for tests and closed networks. */
  allowPrivate: boolean;
  intervalMs: number;
}

export type TrustProxy = boolean | number | string[];

/** The subscription lifecycle scheduler (worker role): expiry, reminders, auto-renewal, outbox pruning. */
export interface LifecycleSettings {
  intervalMs: number;
  /** Days before a period's end at which `subscription.expiring` is sent, largest first. */
  reminderDaysBefore: number[];
  autoRenewLeadMinutes: number;
  eventRetentionDays: number;
  /** Decimal string; a balance that drops below it raises `balance.low` ("0" turns the default off). */
  lowBalanceThreshold: string;
}

/** Server timeouts and load shedding: what keeps slow or too many clients from taking the process down. */
export interface HttpLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
  maxConnections: number;
  /** Mean event-loop delay over a second above which requests are shed with a 503; 0 = off. */
  maxEventLoopDelayMs: number;
  /** Share of V8's heap limit in use above which requests are shed with a 503; 0 = off. */
  maxHeapUsedRatio: number;
  /** Password hashes waiting for a free slot beyond which a login or registration gets a 503. */
  passwordHashQueueMax: number;
}

/** CHARGE_BATCH_MAX_WAIT_MS and CHARGE_BATCH_MAX when unset; the worker groups its writes the same way. */
export const DEFAULT_CHARGE_BATCHING: BatchLimits = { maxWaitMs: 2, maxSize: 64 };

const INT4_MAX = 2_147_483_647;
const TIMER_MAX_MS = 2_147_483_647;

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

function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

function trustProxy(env: Env): TrustProxy {
  const raw = read(env, 'TRUST_PROXY');
  if (raw === undefined) return false;
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 0, 100);
  if (/^[a-z]+$/i.test(raw)) return bool(env, 'TRUST_PROXY', false);
  const list = raw.split(',').map((entry) => entry.trim());
  const wrong = list.find((entry) => !isIpOrCidr(entry));
  if (wrong !== undefined) {
    throw new ConfigError(`TRUST_PROXY must be false, a hop count or a comma-separated list of IP addresses or CIDRs, got "${wrong}"`);
  }
  return list;
}

function httpLimits(env: Env): HttpLimits {
  const requestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 1000);
  const headersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100);
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  return {
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 1),
    connectionTimeoutMs: int(env, 'HTTP_CONNECTION_TIMEOUT_MS', 60_000, 1000),
    maxConnections: int(env, 'MAX_CONNECTIONS', 1024, 1),
    maxEventLoopDelayMs: int(env, 'MAX_EVENT_LOOP_DELAY_MS', 1000, 0),
    maxHeapUsedRatio: fraction(env, 'MAX_HEAP_USED_RATIO', 0.9),
    passwordHashQueueMax: int(env, 'PASSWORD_HASH_QUEUE_MAX', 32, 0),
  };
}

function metrics(env: Env, host: string, port: number): MetricsSettings {
  const token = read(env, 'METRICS_TOKEN');
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters without spaces');
  }
  const metricsPort = read(env, 'METRICS_PORT') === undefined ? undefined : int(env, 'METRICS_PORT', 0, 0, 65535);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError(`METRICS_PORT must differ from PORT (${port}); to serve /metrics on the API's port, set METRICS_TOKEN instead`);
  }
  return { token, port: metricsPort, host: read(env, 'METRICS_HOST') ?? host };
}

function dayList(env: Env, name: string, fallback: number[]): number[] {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const days = raw.split(',').map((entry) => entry.trim());
  if (!days.every((d) => /^\d+$/.test(d) && Number(d) >= 1 && Number(d) <= 365)) {
    throw new ConfigError(`${name} must be a comma-separated list of whole days from 1 to 365, got "${raw}"`);
  }
  return [...new Set(days.map(Number))].sort((a, b) => b - a);
}

function money(env: Env, name: string, fallback: string): string {
  const raw = read(env, name) ?? fallback;
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(raw)) throw new ConfigError(`${name} must be a decimal amount like "5.00", got "${raw}"`);
  return raw;
}

function lifecycle(env: Env): LifecycleSettings {
  return {
    intervalMs: int(env, 'LIFECYCLE_INTERVAL_MS', 60_000, 10, TIMER_MAX_MS),
    reminderDaysBefore: dayList(env, 'REMINDER_DAYS_BEFORE', [3, 1]),
    autoRenewLeadMinutes: int(env, 'AUTO_RENEW_LEAD_MINUTES', 60, 0, 7 * 24 * 60),
    eventRetentionDays: int(env, 'EVENT_RETENTION_DAYS', 30, 1, 36_500),
    lowBalanceThreshold: money(env, 'LOW_BALANCE_THRESHOLD', '5.00'),
  };
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

// This module runs from src/ (tsx, tests) or dist/ (npm start): either way the package root is one up.
const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

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

export interface LoadOptions {
  /** The CLI never calls the partner, so it does not need the partner settings. */
  partnerRequired?: boolean;
}

export function loadConfig(env: Env = process.env, { partnerRequired = true }: LoadOptions = {}): Config {
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

  // With DATABASE_URL a forgotten PARTNER_URL must not mean the simulator: it would take the
  // money for activations and deliver nothing.
  const partnerUrl = url(env, 'PARTNER_URL', ['http:', 'https:']);
  const partnerSimulator = bool(env, 'PARTNER_SIMULATOR', databaseUrl === undefined);
  if (partnerRequired && partnerUrl === undefined && !partnerSimulator) {
    throw new ConfigError(
      databaseUrl
        ? 'PARTNER_URL is required when DATABASE_URL is set; set PARTNER_SIMULATOR=true to run the built-in simulator, which provisions nothing'
        : 'PARTNER_URL is required when PARTNER_SIMULATOR=false',
    );
  }

  const currency = read(env, 'CURRENCY') ?? 'EUR';
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError(`CURRENCY must be a 3-letter ISO code, got "${currency}"`);

  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const mailFrom = read(env, 'MAIL_FROM');
  if (smtpUrl !== undefined && mailFrom === undefined) throw new ConfigError('MAIL_FROM is required when SMTP_URL is set');
  if (mailFrom !== undefined && !/^[^@\s<>]+@[^@\s<>]+$|^[^<>]*<[^@\s<>]+@[^@\s<>]+>$/.test(mailFrom)) {
    throw new ConfigError(`MAIL_FROM must be an address like offers@example.com or "Offers <offers@example.com>", got "${mailFrom}"`);
  }

  const host = read(env, 'HOST') ?? '0.0.0.0';
  const port = int(env, 'PORT', 3000, 0, 65535);
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    databaseQueryTimeoutMs: int(env, 'DATABASE_QUERY_TIMEOUT_MS', 15_000, 100),
    redisUrl,
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'offers',
    role,
    jwtSecret,
    accessTokenTtl: int(env, 'ACCESS_TOKEN_TTL', 900, 1),
    refreshTokenTtl: int(env, 'REFRESH_TOKEN_TTL', 7 * 24 * 3600, 1),
    authUserCacheTtlMs: int(env, 'AUTH_USER_CACHE_TTL_MS', 5000, 0, 600_000),
    adminUsername,
    adminPassword,
    // Demo offers are for trying the embedded default, not for a production catalogue.
    seedDemo: bool(env, 'SEED_DEMO', databaseUrl === undefined),
    registrationEnabled: bool(env, 'REGISTRATION_ENABLED', true),
    currency,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    corsOrigin: read(env, 'CORS_ORIGIN') ?? '*',
    webDistDir: resolve(read(env, 'WEB_DIST_DIR') ?? DEFAULT_WEB_DIST_DIR),
    trustProxy: trustProxy(env),
    authRateLimitPerMinute: int(env, 'AUTH_RATE_LIMIT_PER_MINUTE', 60, 1),
    loginMaxFailures: int(env, 'LOGIN_MAX_FAILURES', 5, 1),
    loginLockoutSeconds: int(env, 'LOGIN_LOCKOUT_SECONDS', 900, 1),
    partnerUrl,
    partnerApiKey: read(env, 'PARTNER_API_KEY'),
    partnerTimeoutMs: int(env, 'PARTNER_TIMEOUT_MS', 5000, 1),
    partnerSimLatencyMs: int(env, 'PARTNER_SIM_LATENCY_MS', 300, 0),
    partnerSimFailureRate: fraction(env, 'PARTNER_SIM_FAILURE_RATE', 0),
    activationRetryBaseMs: int(env, 'ACTIVATION_RETRY_BASE_MS', 1000, 1),
    // Counted in an integer column.
    activationMaxAttempts: int(env, 'ACTIVATION_MAX_ATTEMPTS', 5, 1, INT4_MAX),
    // A retry waits in a setTimeout (embedded queue), which fires at once for anything longer.
    activationRetryMaxMs: int(env, 'ACTIVATION_RETRY_MAX_MS', 300_000, 1, TIMER_MAX_MS),
    activationDeadlineMs: int(env, 'ACTIVATION_DEADLINE_MS', 86_400_000, 1, 365 * 86_400_000),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 16, 1, 1000),
    chargeBatching: {
      maxWaitMs: int(env, 'CHARGE_BATCH_MAX_WAIT_MS', DEFAULT_CHARGE_BATCHING.maxWaitMs, 0, 1000),
      maxSize: int(env, 'CHARGE_BATCH_MAX', DEFAULT_CHARGE_BATCHING.maxSize, 1, 1000),
    },
    reconcileAfterMs: int(env, 'RECONCILE_AFTER_MS', 30_000, 1),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 5000, 10),
    statusCacheTtlSeconds: int(env, 'STATUS_CACHE_TTL_SECONDS', 3600, 1),
    lifecycle: lifecycle(env),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 100),
    http: httpLimits(env),
    stream: {
      heartbeatMs: int(env, 'STREAM_HEARTBEAT_MS', 15_000, 10, TIMER_MAX_MS),
      pollMs: int(env, 'STREAM_POLL_MS', 500, 10, TIMER_MAX_MS),
      maxPerUser: int(env, 'MAX_STREAMS_PER_USER', 5, 1),
      bufferBytes: int(env, 'STREAM_BUFFER_BYTES', 262_144, 1024),
      ticketTtlSeconds: int(env, 'STREAM_TICKET_TTL_SECONDS', 30, 1, 3600),
    },
    metrics: metrics(env, host, port),
    mallocMmapThreshold: read(env, 'MALLOC_MMAP_THRESHOLD_'),
    smtpUrl,
    mailFrom,
    smtpTimeoutMs: int(env, 'SMTP_TIMEOUT_MS', 30_000, 100, 600_000),
    emailMaxAttempts: int(env, 'EMAIL_MAX_ATTEMPTS', 8, 1, INT4_MAX),
    emailRetryBaseMs: int(env, 'EMAIL_RETRY_BASE_MS', 60_000, 1),
    emailRetryMaxMs: int(env, 'EMAIL_RETRY_MAX_MS', 6 * 3_600_000, 1),
    notificationsIntervalMs: int(env, 'NOTIFICATIONS_INTERVAL_MS', 1000, 10, TIMER_MAX_MS),
    webhooks: {
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
      retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 60_000, 1, TIMER_MAX_MS),
      maxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
      disableAfterHours: int(env, 'WEBHOOK_DISABLE_AFTER_HOURS', 72, 1, 365 * 24),
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      intervalMs: int(env, 'WEBHOOK_INTERVAL_MS', 1000, 10, TIMER_MAX_MS),
    },
  };
}
