// The scrape-time gauges when their sources fail: the scrape still answers in time, without them.
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { parseMetrics } from '../helpers/prometheus.js';

describe('scrape-time gauges', () => {
  it('are left out of a scrape whose source fails or hangs, which still answers within the time limit', async () => {
    const failures: string[] = [];
    const metrics = new MetricsRegistry({
      sources: {
        stuckActivations: () => new Promise<number>(() => undefined),
        outboxLag: () => Promise.reject(new Error('connection refused')),
        queueJobs: async () => ({ waiting: 2, active: 1 }),
      },
      onCollectError: (source) => failures.push(source),
      collectTimeoutMs: 100,
    });
    const started = performance.now();
    const scrape = parseMetrics((await metrics.scrape()).body);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(scrape.series('offers_activations_stuck')).toEqual([]);
    expect(scrape.series('offers_outbox_lag_seconds')).toEqual([]);
    expect(scrape.value('offers_queue_jobs', { state: 'waiting' })).toBe(2);
    expect(scrape.value('offers_metrics_collect_errors_total', { source: 'stuck_activations' })).toBe(1);
    expect(scrape.value('offers_metrics_collect_errors_total', { source: 'outbox_lag' })).toBe(1);
    expect(failures.sort()).toEqual(['outbox_lag', 'stuck_activations']);
  });

  it('keeps one registry per runtime, so two runtimes in one process count apart', async () => {
    const sources = { stuckActivations: async () => 0, outboxLag: async () => [], queueJobs: async () => ({}) };
    const a = new MetricsRegistry({ sources, onCollectError: () => undefined });
    const b = new MetricsRegistry({ sources, onCollectError: () => undefined });
    a.loginFailed();
    a.loginFailed();
    b.loginFailed();
    expect(parseMetrics((await a.scrape()).body).value('offers_login_failures_total')).toBe(2);
    expect(parseMetrics((await b.scrape()).body).value('offers_login_failures_total')).toBe(1);
  });
});
