// In-process queue for the embedded default. Jobs lost with the process are found again by the
// reconciler, because every unfinished activation is recorded in the database first.
import type { ActivationJob, JobHandler, JobQueue } from './types.js';

export class MemoryQueue implements JobQueue {
  readonly kind = 'memory';
  readonly #pending: ActivationJob[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  #handler: JobHandler | undefined;
  #concurrency = 1;
  #stopped = false;

  constructor(private readonly onError: (err: unknown, job: ActivationJob) => void) {}

  async enqueue(job: ActivationJob, options: { delayMs?: number } = {}): Promise<void> {
    if (this.#stopped) return;
    if (options.delayMs && options.delayMs > 0) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#push(job);
      }, options.delayMs);
      this.#timers.add(timer);
      return;
    }
    this.#push(job);
  }

  async enqueueMany(jobs: ActivationJob[]): Promise<void> {
    if (this.#stopped) return;
    this.#pending.push(...jobs);
    this.#drain();
  }

  #push(job: ActivationJob): void {
    this.#pending.push(job);
    this.#drain();
  }

  #drain(): void {
    while (this.#handler && !this.#stopped && this.#running.size < this.#concurrency && this.#pending.length > 0) {
      const job = this.#pending.shift()!;
      const handler = this.#handler;
      const run: Promise<void> = handler(job)
        .catch((err: unknown) => this.onError(err, job))
        .finally(() => {
          this.#running.delete(run);
          this.#drain();
        });
      this.#running.add(run);
    }
  }

  async counts(): Promise<Record<string, number>> {
    return { waiting: this.#pending.length, active: this.#running.size, delayed: this.#timers.size };
  }

  startWorker(handler: JobHandler, concurrency: number): void {
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#drain();
  }

  async stopWorker(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Resolves once no job is waiting, delayed or running: tests await it instead of sleeping. */
  async idle(): Promise<void> {
    while (!this.#stopped && (this.#running.size > 0 || this.#pending.length > 0 || this.#timers.size > 0)) {
      // A delayed job has no promise to wait on until its timer pushes it; look again shortly.
      await (this.#running.size > 0 ? Promise.all([...this.#running]) : new Promise((resolve) => setTimeout(resolve, 5)));
    }
  }

  async close(): Promise<void> {
    await this.stopWorker();
  }
}
