// The process's Prometheus metrics (prom-client): one Registry per runtime, never prom-client's
// global one, since tests build many runtimes in one process. The counters implement the domain's
// Metrics port; the gauges read the database and the queue when scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Limiter, Metrics } from './port.js';

/** What the gauges read at scrape time; each is given COLLECT_TIMEOUT_MS. */
export interface MetricSources {
  /** Activations PENDING or PROCESSING for longer than RECONCILE_AFTER_MS past their due time. */
  stuckActivations(): Promise<number>;
  /** Per outbox consumer: the age in seconds of the oldest event it has not handled (0 when none). */
  outboxLag(): Promise<Array<{ consumer: string; seconds: number }>>;
  /** Jobs of the activation queue by state. */
  queueJobs(): Promise<Record<string, number>>;
}

export interface MetricsOptions {
  sources: MetricSources;
  /** Told when a scrape-time source fails or times out (the database is down, say). */
  onCollectError: (source: string, err: unknown) => void;
  collectTimeoutMs?: number;
}

const COLLECT_TIMEOUT_MS = 2000;
const SOURCES = ['purchase', 'auto_renew'] as const;
const PARTNER_OUTCOMES = ['success', 'rejected', 'not_sent', 'ambiguous'] as const;
const EMAIL_OUTCOMES = ['sent', 'retried', 'failed'] as const;
const LIMITERS: readonly Limiter[] = ['auth_rate_limit', 'login_lockout', 'load_shedding'];
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request that matched no route: never the raw URL, which is unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

type Observer = { observe(value: number): void };

export class MetricsRegistry implements Metrics {
  readonly registry = new Registry();
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** route → method → status → the histogram's child, so a request allocates no label object. */
  readonly #httpChildren = new Map<string, Map<string, Map<number, Observer>>>();
  readonly #accepted: Counter<'source'>;
  readonly #finished: Counter<'status' | 'source'>;
  readonly #activationDuration: Histogram<'status' | 'source'>;
  readonly #partnerDuration: Histogram<'outcome'>;
  readonly #refunds: Counter<'reason'>;
  readonly #requeued: Counter;
  readonly #emails: Counter<'outcome'>;
  readonly #loginFailures: Counter;
  readonly #rateLimited: Counter<'limiter'>;
  readonly #webhookDeliveries: Counter<'outcome'>;
  readonly #webhookDisabled: Counter;
  readonly #collectErrors: Counter<'source'>;
  readonly #readings: Array<{ name: string; gauge: Gauge<string>; labelled: boolean; read: () => Promise<Array<[Record<string, string>, number]>> }>;
  readonly #timeoutMs: number;
  readonly #onCollectError: MetricsOptions['onCollectError'];

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    const timeoutMs = options.collectTimeoutMs ?? COLLECT_TIMEOUT_MS;
    collectDefaultMetrics({ register: this.registry });

    this.#httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code, from arrival to the last byte sent',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#accepted = new Counter({
      name: 'offers_activations_accepted_total',
      help: 'Activations charged and handed to the worker, by source (purchase, auto_renew)',
      labelNames: ['source'],
      registers,
    });
    this.#finished = new Counter({
      name: 'offers_activations_finished_total',
      help: 'Activations that reached a final status (SUCCESS, FAILED), by source',
      labelNames: ['status', 'source'],
      registers,
    });
    this.#activationDuration = new Histogram({
      name: 'offers_activation_duration_seconds',
      help: 'Time from an activation being accepted (charged) to its final status',
      labelNames: ['status', 'source'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21_600, 86_400],
      registers,
    });
    this.#partnerDuration = new Histogram({
      name: 'offers_partner_call_duration_seconds',
      help: 'Partner activation calls by outcome (success, rejected, not_sent, ambiguous)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#refunds = new Counter({
      name: 'offers_refunds_total',
      help: 'Refunds of failed activations, by failure code',
      labelNames: ['reason'],
      registers,
    });
    this.#requeued = new Counter({
      name: 'offers_reconciler_requeued_total',
      help: 'Unfinished activations the reconciler enqueued again because nobody was working on them',
      registers,
    });
    this.#emails = new Counter({
      name: 'offers_emails_total',
      help: 'Email delivery attempts by outcome (sent, retried, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.#loginFailures = new Counter({
      name: 'offers_login_failures_total',
      help: 'Logins refused for a wrong username or password',
      registers,
    });
    this.#rateLimited = new Counter({
      name: 'offers_rate_limited_requests_total',
      help: 'Requests turned away by a limit (auth_rate_limit, login_lockout, load_shedding)',
      labelNames: ['limiter'],
      registers,
    });
    this.#webhookDeliveries = new Counter({
      name: 'offers_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#webhookDisabled = new Counter({
      name: 'offers_webhook_endpoints_disabled_total',
      help: 'Webhook endpoints disabled after repeated failed deliveries',
      registers,
    });
    this.#collectErrors = new Counter({
      name: 'offers_metrics_collect_errors_total',
      help: 'Scrape-time readings that failed or timed out (their gauges are left out of that scrape)',
      labelNames: ['source'],
      registers,
    });

    // Every known series starts at 0, so rate() and increase() see the first event.
    for (const source of SOURCES) {
      this.#accepted.inc({ source }, 0);
      for (const status of ['SUCCESS', 'FAILED']) this.#finished.inc({ status, source }, 0);
    }
    for (const outcome of EMAIL_OUTCOMES) this.#emails.inc({ outcome }, 0);
    for (const limiter of LIMITERS) this.#rateLimited.inc({ limiter }, 0);
    for (const reason of ['partner_rejected', 'partner_unavailable']) this.#refunds.inc({ reason }, 0);
    for (const outcome of PARTNER_OUTCOMES) this.#partnerDuration.zero({ outcome });
    for (const source of ['stuck_activations', 'outbox_lag', 'queue_jobs']) this.#collectErrors.inc({ source }, 0);

    const stuck = new Gauge({
      name: 'offers_activations_stuck',
      help: 'Activations still PENDING or PROCESSING longer than RECONCILE_AFTER_MS past their due time',
      registers,
    });
    const lag = new Gauge({
      name: 'offers_outbox_lag_seconds',
      help: 'Per outbox consumer, the age of the oldest event it has not handled yet (0 when it is up to date)',
      labelNames: ['consumer'],
      registers,
    });
    const jobs = new Gauge({
      name: 'offers_queue_jobs',
      help: 'Jobs in the activation queue by state (BullMQ, or the in-process queue)',
      labelNames: ['state'],
      registers,
    });
    const { sources } = options;
    this.#readings = [
      { name: 'stuck_activations', gauge: stuck, labelled: false, read: async () => [[{}, await sources.stuckActivations()]] },
      { name: 'outbox_lag', gauge: lag, labelled: true, read: async () => (await sources.outboxLag()).map((l) => [{ consumer: l.consumer }, l.seconds]) },
      { name: 'queue_jobs', gauge: jobs, labelled: true, read: async () => Object.entries(await sources.queueJobs()).map(([state, n]) => [{ state }, n]) },
    ];
    this.#timeoutMs = timeoutMs;
    this.#onCollectError = options.onCollectError;
  }

  /**
   * Reads every source for the gauges at once, each within the time limit. A gauge whose source
   * failed shows nothing in this scrape rather than a stale value, and the failure is counted
   * before the counters are written, so the same scrape shows it.
   */
  async #readGauges(): Promise<void> {
    await Promise.all(
      this.#readings.map(async ({ name, gauge, labelled, read }) => {
        try {
          const values = await withTimeout(read(), this.#timeoutMs);
          gauge.reset();
          for (const [labels, value] of values) gauge.set(labels, value);
        } catch (err) {
          gauge.reset();
          // A gauge without labels resets to 0, which would read as "all is well".
          if (!labelled) gauge.remove();
          this.#collectErrors.inc({ source: name });
          this.#onCollectError(name, err);
        }
      }),
    );
  }

  /** The text exposition of every metric, with its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    await this.#readGauges();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** One finished HTTP request; `route` is the pattern or undefined when nothing matched. */
  observeRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    const routeLabel = route ?? UNMATCHED_ROUTE;
    // Only a matched route bounds the method; an unmatched request may carry any word.
    const methodLabel = route !== undefined || HTTP_METHODS.has(method) ? method : 'other';
    let byMethod = this.#httpChildren.get(routeLabel);
    if (!byMethod) this.#httpChildren.set(routeLabel, (byMethod = new Map()));
    let byStatus = byMethod.get(methodLabel);
    if (!byStatus) byMethod.set(methodLabel, (byStatus = new Map()));
    let child = byStatus.get(statusCode);
    if (!child) byStatus.set(statusCode, (child = this.#httpDuration.labels(methodLabel, routeLabel, String(statusCode))));
    child.observe(seconds);
  }

  activationAccepted(source: string): void {
    this.#accepted.inc({ source });
  }

  activationFinished(status: 'SUCCESS' | 'FAILED', source: string, seconds: number): void {
    this.#finished.inc({ status, source });
    this.#activationDuration.observe({ status, source }, Math.max(0, seconds));
  }

  partnerCall(outcome: string, seconds: number): void {
    this.#partnerDuration.observe({ outcome }, seconds);
  }

  refunded(reason: string): void {
    this.#refunds.inc({ reason });
  }

  reconcilerRequeued(count: number): void {
    this.#requeued.inc(count);
  }

  emailAttempt(outcome: 'sent' | 'retried' | 'failed'): void {
    this.#emails.inc({ outcome });
  }

  loginFailed(): void {
    this.#loginFailures.inc();
  }

  rateLimited(limiter: Limiter): void {
    this.#rateLimited.inc({ limiter });
  }

  webhookDelivery(outcome: string): void {
    this.#webhookDeliveries.inc({ outcome });
  }

  webhookEndpointDisabled(): void {
    this.#webhookDisabled.inc();
  }
}
