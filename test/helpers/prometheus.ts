// Reads the Prometheus text format the way a scraper does, for tests that compare counters before
// and after what they did. prom-client only writes the format, so this is the small reading half.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

export const METRICS_TOKEN = 'test-metrics-token-0123456789';

export interface Scrape {
  /** Metric family name → its TYPE (counter, gauge, histogram, …). */
  types: Map<string, string>;
  /** The value of one series, or undefined when the scrape does not have it. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every series of a sample name, with its labels. */
  series(name: string): Array<{ labels: Record<string, string>; value: number }>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parseMetrics(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const list = samples.get(match[1]!) ?? [];
    list.push({ labels, value: parseValue(match[3]!) });
    samples.set(match[1]!, list);
  }
  const matches = (have: Record<string, string>, want: Record<string, string>) =>
    Object.keys(have).length === Object.keys(want).length && Object.entries(want).every(([k, v]) => have[k] === v);
  return {
    types,
    value: (name, labels = {}) => samples.get(name)?.find((s) => matches(s.labels, labels))?.value,
    series: (name) => samples.get(name) ?? [],
  };
}

/** GET /metrics on the app with the test token; fails the test on anything but a 200. */
export async function scrape(app: FastifyInstance): Promise<Scrape> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}

/** How much a series moved between two scrapes (a series missing before counts from 0). */
export function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  const now = after.value(name, labels);
  if (now === undefined) throw new Error(`the scrape has no ${name}${JSON.stringify(labels)}`);
  return now - (before.value(name, labels) ?? 0);
}
