// Group commit: calls that arrive together are handed to one `run` as a batch, so a burst of
// requests costs one database round trip instead of one each. Generic: it knows nothing of what the
// items are, only which of them may not share a batch (the same `keyOf`).

export interface GroupCommitOptions<I> {
  /** Longest a call waits for others to join its batch while another batch is running. */
  maxWaitMs: number;
  /** Most calls in one batch. */
  maxSize: number;
  /** Most batches running at once; further calls wait for one to finish (or to fill a batch). */
  maxInFlight?: number;
  /**
   * Calls with the same key never share a batch nor run in two batches at once: a later one waits
   * for the earlier one's batch to finish, so calls of one key take effect in arrival order.
   */
  keyOf?: (item: I) => string | number;
}

/** How long a batch may gather and how big it may grow. */
export type BatchLimits = Pick<GroupCommitOptions<unknown>, 'maxWaitMs' | 'maxSize'>;

/** One item's outcome: its value, or the error its caller gets. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export const settledValue = <O>(value: O): Settled<O> => ({ ok: true, value });
export const settledError = (error: unknown): Settled<never> => ({ ok: false, error });

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

const DEFAULT_MAX_IN_FLIGHT = 4;

export class GroupCommit<I, O> {
  readonly #waiting: Waiting<I, O>[] = [];
  /** Keys of the calls in running batches. */
  readonly #busy = new Set<string | number>();
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #maxInFlight: number;

  /** `run` answers one Settled per item, in the items' order; if it throws, every item gets the error. */
  constructor(
    private readonly run: (items: I[]) => Promise<Settled<O>[]>,
    private readonly options: GroupCommitOptions<I>,
  ) {
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  // A call alone (nothing running) goes at once; while a batch runs, the next one gathers calls for
  // up to maxWaitMs or until it is full, whichever comes first.
  #schedule(): void {
    if (this.#waiting.length === 0 || this.#inFlight >= this.#maxInFlight) return;
    if (this.#inFlight === 0 || this.#waiting.length >= this.options.maxSize) {
      this.#flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, this.options.maxWaitMs);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight >= this.#maxInFlight) return;
    const batch = this.#take();
    if (batch.length === 0) return;
    const keys = batch.map((w) => this.options.keyOf?.(w.item)).filter((k) => k !== undefined);
    for (const key of keys) this.#busy.add(key);
    this.#inFlight++;
    this.run(batch.map((w) => w.item))
      .then(
        (settled) => {
          batch.forEach((w, i) => {
            const outcome = settled[i];
            if (outcome === undefined) w.reject(new Error('group commit: no outcome for an item'));
            else if (outcome.ok) w.resolve(outcome.value);
            else w.reject(outcome.error);
          });
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      )
      .finally(() => {
        this.#inFlight--;
        for (const key of keys) this.#busy.delete(key);
        this.#schedule();
      });
    this.#schedule();
  }

  /** The oldest calls that may run now, up to maxSize; the others keep their place in line. */
  #take(): Waiting<I, O>[] {
    const taken: Waiting<I, O>[] = [];
    const kept: Waiting<I, O>[] = [];
    // A key once passed over stays passed over in this round, so its later calls never overtake it.
    const keysSeen = new Set<string | number>();
    for (const w of this.#waiting) {
      const key = this.options.keyOf?.(w.item);
      const blocked = key !== undefined && (this.#busy.has(key) || keysSeen.has(key));
      if (key !== undefined) keysSeen.add(key);
      if (blocked || taken.length >= this.options.maxSize) kept.push(w);
      else taken.push(w);
    }
    this.#waiting.splice(0, this.#waiting.length, ...kept);
    return taken;
  }
}
