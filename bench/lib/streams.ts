// The live stream under load: N concurrent SSE clients on one API process while activations run.
// Latency is commit to client: the client's arrival time minus the event's created_at (the start
// of the writing transaction, so a little more than from the commit; client and server share the
// machine's clock).
import { SseClient } from './sse-client.js';

export interface StreamLoad {
  latencies: number[];
  events: number;
  refused: number;
  seconds: number;
}

export async function streamsDuring(base: string, tokens: string[], count: number, load: () => Promise<unknown>): Promise<StreamLoad> {
  const clients: SseClient[] = [];
  let refused = 0;
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        SseClient.open(`${base}/api/v1/events/stream/`, { authorization: `Bearer ${tokens[(i + j) % tokens.length]!}` }),
      ),
    );
    for (const c of batch) (c.response.ok ? clients : (refused++, [])).push(c);
  }
  const t0 = Date.now();
  await load();
  // Let the last commits reach their streams before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const seconds = (Date.now() - t0) / 1000;
  const latencies: number[] = [];
  for (const c of clients) {
    for (const e of c.events) latencies.push(e.at - Date.parse((JSON.parse(e.data) as { created_at: string }).created_at));
    c.close();
  }
  latencies.sort((a, b) => a - b);
  return { latencies, events: latencies.length, refused, seconds };
}

export const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
