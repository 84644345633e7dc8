// Load shedding with @fastify/under-pressure: when the event loop lags or the heap nears its limit,
// answer 503 with Retry-After at once rather than queueing requests that would time out anyway.
import { getHeapStatistics } from 'node:v8';
import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** When load measurements start to count: shortly after the app is ready. */
    loadMeasuredFrom: number | undefined;
  }
}

const RETRY_AFTER_SECONDS = 2;
const SAMPLE_INTERVAL_MS = 1000;

/** What to answer under pressure; undefined lets the request through. */
function shed(request: FastifyRequest, reply: FastifyReply, type: string): object | undefined {
  // Liveness: the process is alive, and restarting it for being busy would only make things worse.
  // The metrics are what shows why it is busy.
  if (request.routeOptions.url === '/health' || request.routeOptions.url === '/metrics') return undefined;
  // The first samples measure start-up (schemas compiled, routes built), when the loop is blocked
  // for a second or more, not the traffic.
  if (Date.now() < (request.server.loadMeasuredFrom ?? Infinity)) return undefined;
  request.server.metrics.rateLimited('load_shedding');
  void reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
  // Readiness says why, so a load balancer (and a person) sees the state rather than a bare error.
  if (request.routeOptions.url === '/ready') return { status: 'unavailable', checks: { load: `under pressure (${type})` } };
  return { error: 'The service is overloaded; try again shortly', code: 'service_unavailable' };
}

export async function registerLoadShedding(app: FastifyInstance): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapUsedRatio } = app.config.http;
  app.decorate('loadMeasuredFrom', undefined as number | undefined);
  app.addHook('onReady', async () => {
    app.loadMeasuredFrom = Date.now() + 2 * SAMPLE_INTERVAL_MS;
  });
  await app.register(underPressure, {
    sampleInterval: SAMPLE_INTERVAL_MS,
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * maxHeapUsedRatio),
    // The plugin sends whatever the handler returns (and lets the request through on undefined);
    // its type declares the return as void.
    pressureHandler: shed as FastifyUnderPressureOptions['pressureHandler'],
  });
}
