// The API answers every error as {error, code, details?}: people see `error`, code decides behaviour.

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message of one field, for the form input it belongs to. */
  fieldMessage(field: string): string | undefined {
    return this.details.find((detail) => detail.field === field)?.message;
  }
}

export const NETWORK_ERROR = 'network_error';

export const networkError = () =>
  new ApiError('The server cannot be reached. Check your connection; the page will catch up once it is back.', 0, NETWORK_ERROR);

/** Reads an error answer; anything that is not the API's shape still becomes a sentence. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    body = undefined;
  }
  return errorFromBody(body, response.status);
}

export function errorFromBody(body: unknown, status: number): ApiError {
  if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') {
    const { error, code, details } = body as { error: string; code?: unknown; details?: unknown };
    return new ApiError(error, status, typeof code === 'string' ? code : 'error', Array.isArray(details) ? (details as FieldError[]) : []);
  }
  if (status === 503) return new ApiError('The service is busy or briefly unavailable. Please try again in a moment.', status, 'service_unavailable');
  return new ApiError(`Something went wrong (HTTP ${status}). Please try again.`, status, 'error');
}

/** What to show for any thrown value. */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : 'Something went wrong. Please try again.';
