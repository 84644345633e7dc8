// Waiting for the activation queue to run dry, so a test can say "and then nothing more happened"
// after every delivered job has really been handled, instead of after a guessed sleep.
import { Queue } from 'bullmq';
import type { MemoryQueue } from '../../src/queue/memory-queue.js';
import type { TestApp } from './backends.js';
import { waitFor } from './processes.js';

/** The service's BullMQ queue name (src/queue/bullmq-queue.ts). */
const QUEUE_NAME = 'activations';

/** Resolves once the app's queue has no job waiting, delayed or running (bounded). */
export async function queueDrained(t: TestApp, timeoutMs = 10_000): Promise<void> {
  if (t.runtime.queue.kind === 'memory') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      (t.runtime.queue as MemoryQueue).idle(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the in-process queue was still busy after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return;
  }
  // The app's own Redis connection, shared: closing this Queue leaves it open.
  const queue = new Queue(QUEUE_NAME, { connection: t.runtime.redis!, prefix: `${t.runtime.config.redisKeyPrefix}:bull`, skipVersionCheck: true });
  try {
    // A job leaves "active" only after its handler returned, so zero means every delivery was handled.
    await waitFor(
      async () => {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
        return Object.values(counts).every((n) => n === 0) ? true : undefined;
      },
      { what: 'the BullMQ activation queue to drain', timeoutMs, intervalMs: 20 },
    );
  } finally {
    await queue.close();
  }
}
