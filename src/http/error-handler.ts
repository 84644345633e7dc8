// One error shape for the whole API: {error, code, details?}. Bad input is a 4xx, never a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable, isRedisUnavailable } from '../db/errors.js';
import { DomainError, type ErrorKind } from '../domain/errors.js';
import { describeValidation } from './validation.js';

/** The one place a domain error becomes an HTTP status. */
const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

/** Retry-After when the database or Redis cannot be reached: about how long a restart or failover takes. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Unsupported content type; send application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'Body is empty but Content-Type is application/json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'Body is not valid JSON' },
};

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DomainError, request, reply) => {
    if (err instanceof DomainError) {
      if (err.kind === 'unauthenticated') reply.header('www-authenticate', 'Bearer');
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.code(STATUS_OF_KIND[err.kind]).send({ error: err.message, code: err.code, details: err.details });
    }
    if (err.validation) {
      const { message, details } = describeValidation(err.validation as never, err.validationContext ?? 'body');
      return reply.code(400).send({ error: message, code: 'validation_error', details });
    }
    const known = FASTIFY_CODES[err.code];
    if (known) return reply.code(known.status).send({ error: known.message, code: known.code });
    if (err instanceof SyntaxError || err.code?.startsWith('FST_ERR_CTP')) {
      return reply.code(400).send({ error: 'Body could not be parsed', code: 'invalid_body' });
    }
    if (isDatabaseUnavailable(err) || isRedisUnavailable(err)) {
      // An outage, not a bug: no stack per request, and the client is told to come back.
      request.log.warn({ err: err.message, code: err.code }, 'database or redis unavailable; answered 503');
      reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return reply.code(503).send({ error: 'Service temporarily unavailable; try again shortly', code: 'service_unavailable' });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: err.message, code: STATUS_CODES[status] ?? 'bad_request' });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: 'Internal server error', code: 'internal_error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `Route ${request.method} ${request.url.split('?')[0]} not found`, code: 'not_found' }),
  );
}
