// Security headers and CORS.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

export async function registerSecurity(app: FastifyInstance): Promise<void> {
  // Built once: @fastify/helmet rebuilds helmet's middleware (and re-parses the CSP) on every request.
  const secureHeaders = helmet();
  app.addHook('onRequest', (request, reply, done) => {
    secureHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
  });
  const origins = app.config.corsOrigin.split(',').map((o) => o.trim());
  await app.register(cors, {
    origin: origins.includes('*') ? true : origins,
    methods: ['GET', 'POST', 'PATCH', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
