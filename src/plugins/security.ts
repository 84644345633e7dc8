// Security headers and CORS.
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

export async function registerSecurity(app: FastifyInstance): Promise<void> {
  // Built once: @fastify/helmet rebuilds helmet's middleware (and re-parses the CSP) on every request.
  const secureHeaders = helmet({
    // The API answers JSON, never a page: a CSP that allows nothing, and no framing. Swagger UI at
    // /docs sends its own CSP. The headers only HTML documents use (COOP, Origin-Agent-Cluster,
    // X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
    // X-XSS-Protection) are left out.
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
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
