// Redis connections. Cache clients fail fast so a Redis outage degrades to the database, never hangs a request.
import { Redis } from 'ioredis';

export function connectRedis(url: string, purpose: 'cache' | 'queue'): Redis {
  return new Redis(url, {
    lazyConnect: false,
    connectionName: `offers-api:${purpose}`,
    ...(purpose === 'cache'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 1000 }
      : { maxRetriesPerRequest: null }),
  });
}
