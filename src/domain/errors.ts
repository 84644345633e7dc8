// Every failure a use case can report, with a stable code. Domain code throws these and never
// speaks HTTP; the HTTP error handler and the CLI each map a kind to their own answer in one table.

/** What went wrong, as an edge needs to know it: the HTTP status and the CLI exit code follow from it. */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable';

/** Stable codes clients may rely on, each with its kind. */
export const ERROR_CODES = {
  validation_error: 'invalid',
  bad_request: 'invalid',
  invalid_username: 'invalid',
  weak_password: 'invalid',
  invalid_password: 'invalid',
  invalid_amount: 'invalid',
  amount_too_large: 'invalid',
  invalid_cursor: 'invalid',
  invalid_last_event_id: 'invalid',
  insufficient_balance: 'invalid',
  webhook_url_forbidden: 'invalid',
  not_authenticated: 'unauthenticated',
  invalid_token: 'unauthenticated',
  invalid_credentials: 'unauthenticated',
  invalid_refresh_token: 'unauthenticated',
  refresh_token_reused: 'unauthenticated',
  invalid_ticket: 'unauthenticated',
  forbidden: 'forbidden',
  wrong_password: 'forbidden',
  registration_disabled: 'forbidden',
  csrf_failed: 'forbidden',
  not_found: 'not_found',
  username_taken: 'conflict',
  idempotency_key_reused: 'conflict',
  webhook_endpoint_disabled: 'conflict',
  webhook_delivery_in_progress: 'conflict',
  account_disabled: 'forbidden',
  cannot_disable_self: 'conflict',
  activation_final: 'conflict',
  activation_not_in_review: 'conflict',
  rate_limited: 'rate_limited',
  too_many_streams: 'rate_limited',
  service_unavailable: 'unavailable',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
    /** For rate_limited and service_unavailable: when trying again makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code];
  }
}

export const invalid = (code: ErrorCode, message: string, details?: unknown[]) => new DomainError(code, message, details);
export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const unauthenticated = (code: ErrorCode, message: string) => new DomainError(code, message);
export const forbidden = (message = 'You do not have permission to do this', code: ErrorCode = 'forbidden') =>
  new DomainError(code, message);
export const conflict = (code: ErrorCode, message: string) => new DomainError(code, message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new DomainError('rate_limited', message, undefined, Math.max(1, Math.ceil(retryAfterSeconds)));
export const unavailable = (message: string, retryAfterSeconds = 5) =>
  new DomainError('service_unavailable', message, undefined, retryAfterSeconds);

// The errors the domains share by name, so a message reads the same wherever it is raised.
export const insufficientBalance = () => invalid('insufficient_balance', 'Insufficient balance');
export const idempotencyKeyReused = () =>
  conflict('idempotency_key_reused', 'This Idempotency-Key was already used with a different request');
export const accountDisabled = () => forbidden('This account has been disabled; contact an administrator', 'account_disabled');
export const usernameTaken = () => conflict('username_taken', 'A user with that username already exists');
