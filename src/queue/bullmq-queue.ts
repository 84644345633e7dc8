// BullMQ on Redis: API and worker processes scale out independently and share one queue.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../cache/redis.js';
import type { ActivationJob, JobHandler, JobQueue } from './types.js';

const QUEUE_NAME = 'activations';
const ENQUEUE_TIMEOUT_MS = 2000;

/** An add that Redis does not confirm in time fails: the reconciler enqueues the job later. */
async function withTimeout(adding: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      adding,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class BullQueue implements JobQueue {
  readonly kind = 'bullmq';
  readonly #producer: Redis;
  readonly #queue: Queue<ActivationJob>;
  #worker: Worker<ActivationJob> | undefined;
  #workerConnection: Redis | undefined;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly onError: (err: unknown, job: ActivationJob | undefined) => void,
  ) {
    // The producer fails fast: if Redis is down the charge is already committed and the reconciler re-enqueues it.
    this.#producer = connectRedis(url, 'cache');
    this.#producer.on('error', () => {});
    this.#queue = new Queue<ActivationJob>(QUEUE_NAME, {
      connection: this.#producer,
      prefix: `${prefix}:bull`,
      // BullMQ checks the Redis version once per connection with INFO and keeps a failure for good:
      // one INFO slower than this connection's 1 s command timeout would fail every later add.
      // The worker's connection, which has no command timeout, still checks the version.
      skipVersionCheck: true,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: { count: 1000 },
        // Retries for infrastructure errors (database briefly down); partner retries are scheduled by the worker.
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
      },
    });
    this.#queue.on('error', () => {});
  }

  enqueue(job: ActivationJob, options: { delayMs?: number } = {}): Promise<void> {
    return withTimeout(this.#queue.add('activate', job, { delay: options.delayMs }));
  }

  enqueueMany(jobs: ActivationJob[]): Promise<void> {
    return withTimeout(this.#queue.addBulk(jobs.map((data) => ({ name: 'activate', data }))));
  }

  /** Counted in Redis, so every process reports the whole queue; a failed job is kept (up to 1000) for a look. */
  counts(): Promise<Record<string, number>> {
    return this.#queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  }

  startWorker(handler: JobHandler, concurrency: number): void {
    const connection = connectRedis(this.url, 'queue');
    connection.on('error', () => {});
    this.#workerConnection = connection;
    this.#worker = new Worker<ActivationJob>(QUEUE_NAME, async (job) => handler(job.data), {
      connection,
      prefix: `${this.prefix}:bull`,
      concurrency,
    });
    this.#worker.on('failed', (job, err) => this.onError(err, job?.data));
    this.#worker.on('error', (err) => this.onError(err, undefined));
  }

  async stopWorker(): Promise<void> {
    await this.#worker?.close();
    this.#worker = undefined;
    this.#workerConnection?.disconnect();
    this.#workerConnection = undefined;
  }

  async close(): Promise<void> {
    await this.stopWorker();
    await this.#queue.close();
    this.#producer.disconnect();
  }
}
