// Entry point: config → storage → app → listen. ROLE picks the API, the worker, or both.
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';
import { EmbeddedDatabaseBusy } from './db/embedded-lock.js';
import { type MetricsServer, startMetricsServer } from './metrics/server.js';
import { createRuntime, describePartner, type Runtime } from './runtime.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const runtime: Runtime = await createRuntime(config);
  const { log } = runtime;
  if (config.mallocMmapThreshold === undefined && process.platform === 'linux') {
    log.warn(
      'MALLOC_MMAP_THRESHOLD_ is not set: with glibc, the 19 MiB each argon2 hash allocates stays in the malloc arenas and peak RSS grows by about 70 MB; start with MALLOC_MMAP_THRESHOLD_=131072 as `npm start` does',
    );
  }
  await bootstrap(runtime);

  let app: FastifyInstance | undefined;
  if (config.role !== 'worker') {
    app = await buildApp(runtime);
    await app.listen({ port: config.port, host: config.host });
  }

  if (config.role === 'worker' && config.metrics.port === undefined && config.metrics.token !== undefined) {
    log.warn('METRICS_TOKEN does nothing on ROLE=worker, which serves no API: set METRICS_PORT to expose its metrics');
  }
  let metricsServer: MetricsServer | undefined;
  if (runtime.metricsRegistry && config.metrics.port !== undefined) {
    metricsServer = await startMetricsServer(runtime.metricsRegistry, config.metrics.port, config.metrics.host, (err) =>
      log.error({ err }, 'metrics scrape failed'),
    );
    log.info({ url: `${metricsServer.url}/metrics` }, 'metrics listening');
  }

  if (config.role !== 'api') runtime.startWorker();
  log.info({ database: runtime.dbKind, queue: runtime.queue.kind, partner: describePartner(config) }, 'started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      // Stop accepting and finish in-flight requests, then finish running jobs, then close pools.
      await app?.close();
      await runtime.stopWorker();
      await metricsServer?.close();
      await runtime.close();
      log.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof EmbeddedDatabaseBusy) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
