// The partner (provisioning) system: an HTTP client when PARTNER_URL is set, a simulator otherwise.
// Both answer through the same result type, so the worker treats them the same way. The contract
// (README, "Partner contract"): 200/201 with a `reference` is done; 202/204 is "accepted, still
// working"; a 4xx other than 408/429 is a definite no; anything else settles nothing.
import { setTimeout as sleep } from 'node:timers/promises';

export interface PartnerRequest {
  transaction_id: string;
  user_id: number;
  offer_id: number;
  amount: string;
  duration_days: number;
}

export type PartnerResult =
  | { outcome: 'success'; reference: string }
  /** A definite no (a 4xx other than 408/429): retrying cannot help, and the money goes back. */
  | { outcome: 'rejected'; message: string }
  /** The request never reached the partner (refused, no such host): safe to refund after the last attempt. */
  | { outcome: 'not_sent'; message: string }
  /**
   * The partner may have done the work: a timeout or dropped connection after sending, 5xx, 408,
   * 429, 202/204 "accepted", or 200 without a reference. Only asking again with the same key settles it.
   */
  | { outcome: 'ambiguous'; message: string };

export interface Partner {
  activate(request: PartnerRequest): Promise<PartnerResult>;
}

const RETRYABLE_4XX = new Set([408, 429]);

/** Errors raised before a single byte of the request went out: connecting failed or the host is unknown. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The error codes of a failed fetch: undici puts the socket error in `cause`, several in an AggregateError. */
function errorCodes(err: unknown): string[] {
  const cause = (err as { cause?: unknown }).cause as { code?: unknown; errors?: unknown } | undefined;
  if (!cause) return [];
  const nested = Array.isArray(cause.errors) ? cause.errors : [];
  return [cause, ...nested].map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
}

async function errorText(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown };
    const text = body.error ?? body.message;
    return typeof text === 'string' && text.length > 0 ? text.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}

export class HttpPartner implements Partner {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  async activate(request: PartnerRequest): Promise<PartnerResult> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/activate/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': request.transaction_id,
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        return { outcome: 'ambiguous', message: `Partner did not answer within ${this.timeoutMs} ms` };
      }
      const codes = errorCodes(err);
      if (codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c))) {
        return { outcome: 'not_sent', message: `Partner could not be reached (${codes[0]})` };
      }
      return { outcome: 'ambiguous', message: `Partner connection failed${codes[0] ? ` (${codes[0]})` : ''}` };
    }

    if (response.status === 200 || response.status === 201) {
      const body = (await response.json().catch(() => ({}))) as { reference?: unknown };
      if (typeof body.reference === 'string' && body.reference.length > 0) return { outcome: 'success', reference: body.reference };
      return { outcome: 'ambiguous', message: 'Partner answered without a reference' };
    }
    if (response.status >= 400 && response.status < 500 && !RETRYABLE_4XX.has(response.status)) {
      return { outcome: 'rejected', message: (await errorText(response)) ?? `Partner rejected the activation (HTTP ${response.status})` };
    }
    await response.body?.cancel();
    if (response.status === 202 || response.status === 204) {
      return { outcome: 'ambiguous', message: `Partner accepted the activation and is still working on it (HTTP ${response.status})` };
    }
    return { outcome: 'ambiguous', message: `Partner answered HTTP ${response.status}` };
  }
}

export class SimulatedPartner implements Partner {
  constructor(
    private readonly latencyMs: number,
    private readonly failureRate: number,
  ) {}

  async activate(request: PartnerRequest): Promise<PartnerResult> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (this.failureRate > 0 && Math.random() < this.failureRate) {
      return { outcome: 'rejected', message: 'The partner simulator rejected this activation' };
    }
    return { outcome: 'success', reference: `SIM-${request.transaction_id.slice(0, 8).toUpperCase()}` };
  }
}
