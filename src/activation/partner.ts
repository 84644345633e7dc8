// The partner (provisioning) system: an HTTP client when PARTNER_URL is set, a simulator otherwise.
// Both answer through the same result type, so the worker treats them the same way.
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
  /** The partner refused; retrying cannot help. */
  | { outcome: 'rejected'; message: string }
  /** Timeout, connection error, 5xx, 408 or 429: worth retrying with the same idempotency key. */
  | { outcome: 'unavailable'; message: string };

export interface Partner {
  activate(request: PartnerRequest): Promise<PartnerResult>;
}

const RETRYABLE_4XX = new Set([408, 429]);

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
      const timedOut = (err as Error).name === 'TimeoutError';
      return { outcome: 'unavailable', message: timedOut ? `Partner did not answer within ${this.timeoutMs} ms` : 'Partner could not be reached' };
    }

    if (response.status === 200 || response.status === 201) {
      const body = (await response.json().catch(() => ({}))) as { reference?: unknown };
      if (typeof body.reference === 'string' && body.reference.length > 0) return { outcome: 'success', reference: body.reference };
      return { outcome: 'unavailable', message: 'Partner answered without a reference' };
    }
    if (response.status >= 400 && response.status < 500 && !RETRYABLE_4XX.has(response.status)) {
      return { outcome: 'rejected', message: (await errorText(response)) ?? `Partner rejected the activation (HTTP ${response.status})` };
    }
    await response.body?.cancel();
    return { outcome: 'unavailable', message: `Partner answered HTTP ${response.status}` };
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
