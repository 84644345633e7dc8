// Everything a process needs besides HTTP: the database, Redis, services. Built once per process.
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { HttpPartner, type Partner, SimulatedPartner } from './activation/partner.js';
import { Reconciler } from './activation/reconciler.js';
import { type ActivationView, isFinal } from './activation/domain.js';
import { ActivationService } from './activation/service.js';
import { countStuck } from './activation/queries.js';
import { ActivationWorker } from './activation/worker.js';
import { LiveUsers } from './auth/live-users.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { RefreshTokenPurge } from './auth/refresh-token-purge.js';
import { SessionRevocations } from './auth/revocations.js';
import { AuthService } from './auth/service.js';
import { AccessTokens } from './auth/tokens.js';
import { type CounterStore, FailOpenCounterStore, MemoryCounterStore, RedisCounterStore } from './cache/counters.js';
import { RedisChannel } from './cache/pubsub.js';
import { connectRedis } from './cache/redis.js';
import { MemoryStatusCache, RedisStatusCache, type StatusCache, TieredStatusCache } from './cache/status-cache.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { type Database, type DatabaseKind, embeddedDir, openDatabase } from './db/connect.js';
import { isDatabaseUnavailable, isRedisUnavailable } from './db/errors.js';
import { migrateToLatest } from './db/migrate.js';
import { consumerLag } from './events/queries.js';
import { LifecycleScheduler } from './lifecycle/scheduler.js';
import { type Metrics, noMetrics } from './metrics/port.js';
import { MetricsRegistry } from './metrics/registry.js';
import { createNotifications, type Notifications } from './notifications/background.js';
import { BullQueue } from './queue/bullmq-queue.js';
import { MemoryQueue } from './queue/memory-queue.js';
import type { JobQueue } from './queue/types.js';
import { CommitSignal } from './stream/commit-signal.js';
import { createWebhooks, type Webhooks } from './webhooks/background.js';

export interface Runtime {
  config: Config;
  log: Logger;
  db: Database;
  dbKind: DatabaseKind;
  redis: Redis | undefined;
  counters: CounterStore;
  tokens: AccessTokens;
  auth: AuthService;
  queue: JobQueue;
  statusCache: StatusCache<ActivationView>;
  partner: Partner;
  activation: ActivationService;
  clock: Clock;
  /** Expiry, reminders, auto-renewal and outbox pruning; started with the worker. */
  lifecycle: LifecycleScheduler;
  /** Writers call commits.notify() after committing events, so live streams get them at once. */
  commits: CommitSignal;
  /** The in-app feed and email consumers, run by the worker role. */
  notifications: Notifications;
  /** The outbound webhooks' fan-out and sender, run by the worker role. */
  webhooks: Webhooks;
  /** Where the domain code reports counts and times; a no-op unless metrics are served. */
  metrics: Metrics;
  /** The Prometheus registry, when METRICS_TOKEN or METRICS_PORT is set. */
  metricsRegistry: MetricsRegistry | undefined;
  /** Starts the activation worker, the reconciler, the lifecycle scheduler, the notifications and the webhooks in this process (ROLE=all or worker). */
  startWorker(): void;
  /** Stops taking activation jobs and waits for the running ones. */
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Extra time a worker holds an activation beyond the partner's own time budget. */
const LEASE_MARGIN_MS = 5000;

function createPartner(config: Config): Partner {
  return config.partnerUrl
    ? new HttpPartner(config.partnerUrl, config.partnerApiKey, config.partnerTimeoutMs)
    : new SimulatedPartner(config.partnerSimLatencyMs, config.partnerSimFailureRate);
}

/** What the start-up log says about the partner: the host only, as the URL may carry credentials. */
export function describePartner(config: Config): string {
  return config.partnerUrl ? `http ${new URL(config.partnerUrl).host}` : 'simulator';
}

export interface RuntimeOptions {
  /** Overrides where PGlite keeps its files ('memory://' in tests). */
  pgliteDir?: string;
  log?: Logger;
  /** The lifecycle's time; tests pass a TestClock and move it. */
  clock?: Clock;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'offers-api', role: config.role } });
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.log ?? createLogger(config);
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: options.pgliteDir ?? embeddedDir(config.dataDir),
    poolSize: config.databasePoolSize,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    onConnectionLost: (err) => log.warn({ err: err.message }, 'database connection lost; the pool will open a new one'),
  });
  const { db, kind } = database;
  const applied = await migrateToLatest(db);
  if (applied.length > 0) log.info({ migrations: applied }, 'applied database migrations');

  const redis = config.redisUrl ? connectRedis(config.redisUrl, 'cache') : undefined;
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const counters: CounterStore = redis
    ? new FailOpenCounterStore(new RedisCounterStore(redis, config.redisKeyPrefix), (err) =>
        log.warn({ err: (err as Error).message }, 'login counters unavailable; not throttling this attempt'),
      )
    : new MemoryCounterStore();
  const tokens = new AccessTokens(config.jwtSecret, config.accessTokenTtl);
  // Nothing is collected unless someone can scrape it. The gauges read the queue created below, at scrape time.
  const metricsRegistry =
    config.metrics.token !== undefined || config.metrics.port !== undefined
      ? new MetricsRegistry({
          sources: {
            stuckActivations: () => countStuck(db, config.reconcileAfterMs),
            outboxLag: () => consumerLag(db),
            queueJobs: () => queue.counts(),
          },
          onCollectError: (source, err) => log.warn({ source, err: (err as Error).message }, 'a metric could not be read for this scrape'),
        })
      : undefined;
  const metrics: Metrics = metricsRegistry ?? noMetrics;
  const throttle = new LoginThrottle(counters, config.loginMaxFailures, config.loginLockoutSeconds, metrics);
  const revocations = new SessionRevocations(
    db,
    config.accessTokenTtl,
    log,
    redis && config.redisUrl ? new RedisChannel(config.redisUrl, redis, `${config.redisKeyPrefix}:sessions:revoked`) : undefined,
  );
  // A worker process serves no requests, so it needs no list of ended sessions.
  if (config.role !== 'worker') await revocations.start();
  const liveUsers = new LiveUsers(db, config.authUserCacheTtlMs);
  const auth = new AuthService(db, tokens, throttle, config.refreshTokenTtl, revocations, liveUsers, metrics);
  const refreshTokenPurge = new RefreshTokenPurge(db, config.accessTokenTtl, log);

  const onJobError = (err: unknown, job: { transactionId: string } | undefined) =>
    isDatabaseUnavailable(err) || isRedisUnavailable(err)
      ? log.warn({ err: (err as Error).message, transaction_id: job?.transactionId }, 'activation job failed: database or redis unavailable; it will be retried')
      : log.error({ err, transaction_id: job?.transactionId }, 'activation job failed; it will be retried');
  const queue: JobQueue = config.redisUrl
    ? new BullQueue(config.redisUrl, config.redisKeyPrefix, onJobError)
    : new MemoryQueue(onJobError);
  const statusCache: StatusCache<ActivationView> = redis
    ? new TieredStatusCache(new RedisStatusCache<ActivationView>(redis, config.redisKeyPrefix, config.statusCacheTtlSeconds), isFinal, config.statusCacheTtlSeconds)
    : new MemoryStatusCache<ActivationView>(config.statusCacheTtlSeconds);
  const partner = createPartner(config);
  const commits = new CommitSignal(redis && config.redisUrl ? { publisher: redis, url: config.redisUrl, keyPrefix: config.redisKeyPrefix } : undefined, log);
  const activation = new ActivationService(db, queue, statusCache, log, config.lifecycle.lowBalanceThreshold, commits.notify, metrics, config.chargeBatching);
  const partnerBudgetMs = config.partnerUrl ? config.partnerTimeoutMs : config.partnerSimLatencyMs;
  const worker = new ActivationWorker(db, partner, queue, statusCache, {
    maxAttempts: config.activationMaxAttempts,
    retryBaseMs: config.activationRetryBaseMs,
    retryMaxMs: config.activationRetryMaxMs,
    deadlineMs: config.activationDeadlineMs,
    leaseMs: partnerBudgetMs + LEASE_MARGIN_MS,
  }, log, commits.notify, metrics, config.chargeBatching);
  const reconciler = new Reconciler(db, queue, config.reconcileAfterMs, config.reconcileIntervalMs, log, metrics);
  const clock = options.clock ?? systemClock;
  const lifecycle = new LifecycleScheduler(db, activation, clock, config.lifecycle, config.lifecycle.intervalMs, log);
  const notifications = createNotifications(db, config, log, undefined, metrics);
  const webhooks = createWebhooks(db, config.webhooks, clock, log, commits.notify, metrics);
  let workerStarted = false;
  const stopWorker = async () => {
    await refreshTokenPurge.stop();
    await lifecycle.stop();
    await reconciler.stop();
    await notifications.stop();
    await webhooks.stop();
    await queue.stopWorker();
  };

  return {
    config,
    log,
    db,
    dbKind: kind,
    redis,
    counters,
    tokens,
    auth,
    queue,
    statusCache,
    partner,
    activation,
    clock,
    lifecycle,
    commits,
    notifications,
    webhooks,
    metrics,
    metricsRegistry,
    startWorker() {
      if (workerStarted) return;
      workerStarted = true;
      queue.startWorker(worker.handle, config.workerConcurrency);
      reconciler.start();
      refreshTokenPurge.start();
      lifecycle.start();
      notifications.start();
      webhooks.start();
    },
    stopWorker,
    async close() {
      await stopWorker();
      await queue.close();
      await revocations.close();
      liveUsers.close();
      commits.close();
      notifications.close();
      redis?.disconnect();
      await database.close();
    },
  };
}
