// Redis connections. Cache clients fail fast so a Redis outage degrades to the database, never hangs a request.
import { Redis } from 'ioredis';

export function connectRedis(url: string, purpose: 'cache' | 'queue'): Redis {
  return new Redis(url, {
    lazyConnect: false,
    connectionName: `offers-api:${purpose}`,
    ...(purpose === 'cache'
      ? // Commands issued in the same tick (status writes of concurrent requests) share one round trip.
        { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, commandTimeout: 1000, enableAutoPipelining: true }
      : { maxRetriesPerRequest: null }),
  });
}
