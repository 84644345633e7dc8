// The alert rules in ops/prometheus read metrics this code exports, under the labels it gives them:
// renaming a metric or a label breaks this test, not the alert in production. (promtool checks the
// syntax and proves each alert fires in .ci/run.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { repoRoot } from '../helpers/processes.js';
import { parseMetrics } from '../helpers/prometheus.js';

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = join(repoRoot, 'ops/prometheus/alerts.yml');
const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

/** What the code exports: every family's samples, with at least one series of each so labels show. */
async function exported() {
  const metrics = new MetricsRegistry({
    sources: {
      stuckActivations: async () => 0,
      outboxLag: async () => [{ consumer: 'notifications.feed', seconds: 0 }],
      queueJobs: async () => ({ waiting: 0 }),
    },
    onCollectError: () => undefined,
  });
  metrics.observeRequest('GET', '/health', 200, 0.001);
  metrics.partnerCall('success', 0.1);
  metrics.activationFinished('SUCCESS', 'purchase', 1);
  metrics.webhookDelivery('delivered');
  metrics.webhookEndpointDisabled();
  metrics.reconcilerRequeued(1);
  metrics.loginFailed();
  const scrape = parseMetrics((await metrics.scrape()).body);
  const labels = new Map<string, Set<string>>();
  for (const [family, type] of scrape.types) {
    const samples = type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => family + s) : [family];
    for (const sample of samples) {
      labels.set(sample, new Set(scrape.series(sample).flatMap((s) => Object.keys(s.labels))));
    }
  }
  return labels;
}

/** Metric names in a PromQL expression, each with the label names its selector matches on. */
function selectors(expr: string): Array<{ metric: string; labels: string[] }> {
  const found: Array<{ metric: string; labels: string[] }> = [];
  for (const match of expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\s*(\{[^}]*\})?/gi)) {
    const metric = match[1]!;
    if (!/^(offers_|http_|process_|nodejs_)/.test(metric)) continue;
    const labels = [...(match[2] ?? '').matchAll(/([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)/gi)].map((l) => l[1]!);
    found.push({ metric, labels });
  }
  return found;
}

/** Labels an expression groups or divides by: by (…), without (…), on (…), ignoring (…), and $labels.x in annotations. */
function groupingLabels(rule: Rule): string[] {
  const inExpr = [...rule.expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
  const inText = Object.values(rule.annotations ?? {}).flatMap((text) => [...text.matchAll(/\$labels\.([a-z_]+)/g)].map((m) => m[1]!));
  return [...inExpr, ...inText];
}

describe('alert rules in ops/prometheus/alerts.yml', () => {
  it('cover the conditions someone must be woken for', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'OffersActivationsStuck',
      'OffersHigh5xxRate',
      'OffersOutboxLagging',
      'OffersPartnerErrorRate',
      'OffersWebhookEndpointDisabled',
    ]);
  });

  it('each page with a summary, a description and a runbook', () => {
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toBe('page');
      for (const key of ['summary', 'description', 'runbook', 'runbook_url']) {
        expect(rule.annotations?.[key], `${rule.alert} ${key}`).toEqual(expect.stringMatching(/\S/));
      }
      // Alerts on a level wait a while so a blip pages nobody; the one on an event fires at once.
      if (!rule.expr.includes('increase(')) expect(rule.for, rule.alert).toMatch(/^\d+m$/);
    }
  });

  it('read only metrics the service exports, by labels those metrics have', async () => {
    const labels = await exported();
    for (const rule of rules) {
      const used = selectors(rule.expr);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      const names = new Set<string>();
      for (const { metric, labels: matched } of used) {
        expect(labels.has(metric), `${rule.alert} reads ${metric}, which is not exported`).toBe(true);
        for (const label of matched) expect([...labels.get(metric)!], `${rule.alert}: ${metric}{${label}}`).toContain(label);
        for (const label of labels.get(metric)!) names.add(label);
      }
      for (const label of groupingLabels(rule)) expect([...names], `${rule.alert} groups by ${label}`).toContain(label);
    }
  });
});
