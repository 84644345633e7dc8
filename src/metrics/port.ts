// What the domain code reports to the metrics, without knowing how they are kept (prom-client,
// src/metrics/registry.ts) or whether anyone scrapes them. Every method is synchronous and cheap.

/** Which limit turned a request away. */
export type Limiter = 'auth_rate_limit' | 'login_lockout' | 'load_shedding';

export interface Metrics {
  /** A charged activation was handed to the worker (a purchase, or a renewal the scheduler charged). */
  activationAccepted(source: string): void;
  /** An activation reached SUCCESS or FAILED; `seconds` from its purchase to that moment. */
  activationFinished(status: 'SUCCESS' | 'FAILED', source: string, seconds: number): void;
  /** One partner call and how it ended (the PartnerResult outcome). */
  partnerCall(outcome: string, seconds: number): void;
  /** A failed activation's money went back (committed); `reason` is its failure code. */
  refunded(reason: string): void;
  /** The reconciler enqueued activations nobody was working on. */
  reconcilerRequeued(count: number): void;
  /** One email delivery attempt: sent, retried later, or failed for good. */
  emailAttempt(outcome: 'sent' | 'retried' | 'failed'): void;
  /** A login refused for a wrong username or password. */
  loginFailed(): void;
  /** A request turned away by a limit before it was handled. */
  rateLimited(limiter: Limiter): void;
  /** One webhook delivery attempt: e.g. delivered, retried, failed. */
  webhookDelivery(outcome: string): void;
  /** A webhook endpoint was disabled after repeated failures. */
  webhookEndpointDisabled(): void;
}

const nothing = () => undefined;

/** For code built outside a runtime (tests, the CLI): reports go nowhere. */
export const noMetrics: Metrics = {
  activationAccepted: nothing,
  activationFinished: nothing,
  partnerCall: nothing,
  refunded: nothing,
  reconcilerRequeued: nothing,
  emailAttempt: nothing,
  loginFailed: nothing,
  rateLimited: nothing,
  webhookDelivery: nothing,
  webhookEndpointDisabled: nothing,
};
