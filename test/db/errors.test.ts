// Which failures mean "the database or Redis cannot be reached" (a 503 to retry) and which are bugs or bad data.
import { describe, expect, it } from 'vitest';
import { DatabaseNotAnswering, isConnectionFailure, isDatabaseUnavailable, isRedisUnavailable } from '../../src/db/errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a session ended by pg_terminate_backend', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a connection lost under a query', new Error('Connection terminated unexpectedly')],
    ['a pool that found no connection in time', new Error('timeout exceeded when trying to connect')],
    ['a refused connection to every address', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')],
    ['a query the watchdog gave up on', new DatabaseNotAnswering(15_000)],
    ['a statement cancelled by statement_timeout', withCode('canceling statement due to statement timeout', '57014')],
  ])('says yes for %s', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['something that is not an error', 'ECONNREFUSED'],
  ])('says no for %s', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe('isConnectionFailure', () => {
  it('keeps a connection whose statement PostgreSQL cancelled and drops one the watchdog gave up on', () => {
    expect(isConnectionFailure(withCode('canceling statement due to statement timeout', '57014'))).toBe(false);
    expect(isConnectionFailure(new DatabaseNotAnswering(15_000))).toBe(true);
    expect(isConnectionFailure(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
  });
});

describe('isRedisUnavailable', () => {
  it('says yes for a fail-fast client without a connection and no for a Redis reply error', () => {
    expect(isRedisUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
    expect(isRedisUnavailable(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  });
});
