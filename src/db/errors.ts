// PostgreSQL error codes we act on; PGlite reports the same codes.
const code = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;

export const isUniqueViolation = (err: unknown) => code(err) === '23505';
export const isCheckViolation = (err: unknown) => code(err) === '23514';

/** admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown, cannot_connect_now, too_many_connections. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
// pg reports a lost or unobtainable connection with these messages and no code.
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];
// ioredis, when Redis cannot be reached and a command fails fast instead of waiting.
const REDIS_CONNECTION_MESSAGES = ['Connection is closed', "Stream isn't writeable", 'Command timed out', 'Reached the max retries per request limit'];

function someCause(err: unknown, test: (e: Error & { code?: unknown }) => boolean, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  if (test(err)) return true;
  const nested = [err.cause, ...(err instanceof AggregateError ? err.errors : [])];
  return nested.some((e) => someCause(e, test, depth + 1));
}

/** A query ran past DATABASE_QUERY_TIMEOUT_MS with no answer, so its connection was closed under it. */
export class DatabaseNotAnswering extends Error {
  override name = 'DatabaseNotAnswering';

  constructor(timeoutMs: number) {
    super(`PostgreSQL did not answer a query within ${timeoutMs} ms; its connection was closed`);
  }
}

/**
 * The connection could not be opened or broke (restart, failover, pg_terminate_backend, a network
 * cut, an exhausted pool, a query the watchdog gave up on): a client it happened on is not reused.
 */
export const isConnectionFailure = (err: unknown): boolean =>
  someCause(err, (e) => {
    if (e instanceof DatabaseNotAnswering) return true;
    const c = code(e);
    if (c !== undefined && (UNAVAILABLE_SQLSTATES.has(c) || c.startsWith('08') || NETWORK_CODES.has(c))) return true;
    return PG_CONNECTION_MESSAGES.some((m) => e.message.startsWith(m));
  });

/**
 * query_canceled: PostgreSQL's statement_timeout (set just under the watchdog) or an operator's
 * pg_cancel_backend stopped the statement. The connection stays usable. Under load this says "come
 * back later" rather than "bug", so it is answered like an outage; a query that hits it routinely is
 * a performance defect, visible as the 503 warnings' code 57014.
 */
const QUERY_CANCELED = '57014';

/**
 * The database could not be reached, dropped the connection or could not finish in time: nothing is
 * wrong with the request, and it may work again soon.
 */
export const isDatabaseUnavailable = (err: unknown): boolean =>
  isConnectionFailure(err) || someCause(err, (e) => code(e) === QUERY_CANCELED);

/** Redis could not be reached in time. */
export const isRedisUnavailable = (err: unknown): boolean =>
  someCause(err, (e) => NETWORK_CODES.has(code(e) ?? '') || REDIS_CONNECTION_MESSAGES.some((m) => e.message.startsWith(m)));
