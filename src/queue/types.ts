// The activation queue: an in-process implementation for the embedded default and BullMQ on Redis
// for scaled deployments. The queue only speeds delivery up; the database decides what is done.
export interface ActivationJob {
  transactionId: string;
}

export type JobHandler = (job: ActivationJob) => Promise<void>;

export interface JobQueue {
  readonly kind: 'memory' | 'bullmq';
  enqueue(job: ActivationJob, options?: { delayMs?: number }): Promise<void>;
  /** Several jobs due now, in one round trip. */
  enqueueMany(jobs: ActivationJob[]): Promise<void>;
  /** Jobs by state (waiting, active, delayed, …), for the metrics. */
  counts(): Promise<Record<string, number>>;
  /** Begins consuming jobs (worker role). */
  startWorker(handler: JobHandler, concurrency: number): void;
  /** Takes no new jobs and waits for the running ones to finish. */
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}
