// Drives an HTTP endpoint with autocannon: a warm-up, then a fixed duration whose every response
// time is recorded (sub-millisecond; autocannon's own histogram rounds to whole milliseconds).
import autocannon, { type RawRequest } from 'autocannon';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export interface LoadSpec {
  url: string;
  connections: number;
  method?: 'GET' | 'POST';
  /** Called for each request with a running counter; returns the path, headers and body to send. */
  request: (i: number) => { path: string; headers?: Record<string, string>; body?: string };
  /** Called with each response and the counter of the request it answers. */
  onResponse?: (status: number, body: string, i: number) => void;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function drive(spec: LoadSpec, limit: { duration?: number; amount?: number }): Promise<LoadResult> {
  let counter = 0;
  const method = spec.method ?? 'GET';
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    ...limit,
    timeout: 30,
    requests: [
      {
        method,
        setupRequest: (req: RawRequest, context: Record<string, unknown>) => {
          // One request in flight per connection, so the client's context names the request answered next.
          context.i = counter;
          const next = spec.request(counter++);
          return {
            ...req,
            method,
            path: next.path,
            headers: { ...(next.body === undefined ? {} : { 'content-type': 'application/json' }), ...next.headers },
            ...(next.body === undefined ? {} : { body: next.body }),
          };
        },
        ...(spec.onResponse
          ? { onResponse: (status: number, body: string, context: Record<string, unknown>) => spec.onResponse!(status, body, context.i as number) }
          : {}),
      },
    ],
  });
  const times: number[] = [];
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => times.push(ms));
  const result = await instance;
  const sorted = Float64Array.from(times).sort();
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests: responses,
    seconds: result.duration,
    rps: responses / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors,
    non2xx: result.non2xx,
    statusCodes,
  };
}

/** Warm-up (discarded), then the measured run. */
export async function measure(spec: LoadSpec, timing: { warmup: number; duration: number }): Promise<LoadResult> {
  if (timing.warmup > 0) await drive(spec, { duration: timing.warmup });
  return drive(spec, { duration: timing.duration });
}

/** Exactly `amount` requests, as fast as the connections go. */
export function fire(spec: LoadSpec, amount: number): Promise<LoadResult> {
  return drive(spec, { amount });
}
