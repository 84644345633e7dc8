// The HTTP side of the metrics: every response timed by its route pattern, and GET /metrics on the
// API's port for a scraper holding METRICS_TOKEN (without the token the path does not exist there).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthenticated } from '../domain/errors.js';
import type { MetricsRegistry } from './registry.js';

export const METRICS_PATH = '/metrics';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time: equal-length digests, whatever the lengths of the inputs. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

export function registerMetrics(app: FastifyInstance, metrics: MetricsRegistry, token: string | undefined): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    // Scrapes would otherwise be most of the traffic of a quiet process.
    if (route !== METRICS_PATH) metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (token === undefined) return;

  app.get(METRICS_PATH, { schema: { hide: true } }, async (request, reply) => {
    if (!tokenMatches(request.headers.authorization, token)) {
      throw unauthenticated('invalid_token', 'A valid metrics token is required');
    }
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).send(body);
  });
}
