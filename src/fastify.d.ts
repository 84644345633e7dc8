// What the app decorates Fastify with.
import type { Redis } from 'ioredis';
import type { ActivationService } from './activation/service.js';
import type { AuthService } from './auth/service.js';
import type { AccessClaims, AccessTokens } from './auth/tokens.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/connect.js';
import type { Metrics } from './metrics/port.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database;
    redis: Redis | undefined;
    tokens: AccessTokens;
    auth: AuthService;
    activation: ActivationService;
    clock: Clock;
    metrics: Metrics;
  }
  interface FastifyRequest {
    user: AccessClaims;
  }
}
