// A small Server-Sent Events client over fetch, for the tests and the bench: it can send headers
// (which EventSource cannot), shows the status of a refused stream, and records when each event
// and heartbeat arrived.
import { createParser } from 'eventsource-parser';

export interface ReceivedEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** Date.now() when it arrived. */
  at: number;
}

type Waiter = { check: () => boolean; resolve: () => void };

export class SseClient {
  readonly events: ReceivedEvent[] = [];
  readonly comments: Array<{ text: string; at: number }> = [];
  /** Set when the server ended the stream (or it broke). */
  ended = false;
  readonly #abort: AbortController;
  readonly #waiters = new Set<Waiter>();
  readonly done: Promise<void>;

  private constructor(
    readonly response: Response,
    abort: AbortController,
    /** The error body of a refused stream. */
    readonly refusal: unknown,
  ) {
    this.#abort = abort;
    if (refusal !== undefined) {
      this.ended = true;
      this.done = Promise.resolve();
      return;
    }
    const parser = createParser({
      onEvent: (e) => this.#push(() => this.events.push({ id: e.id, event: e.event, data: e.data, at: Date.now() })),
      onComment: (text) => this.#push(() => this.comments.push({ text: text.trim(), at: Date.now() })),
    });
    this.done = (async () => {
      try {
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted by close(), or the connection broke: either way the stream is over
      }
      this.#push(() => (this.ended = true));
    })();
  }

  /** Opens a stream; resolves once the response has started (or was refused: see `response.status`). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const refusal = response.ok ? undefined : ((await response.json().catch(() => null)) as unknown);
    return new SseClient(response, abort, refusal);
  }

  #push(change: () => unknown): void {
    change();
    for (const w of this.#waiters) if (w.check()) w.resolve();
  }

  /** Resolves when `check` holds, or rejects after `timeoutMs` with what arrived so far. */
  until(check: () => boolean, timeoutMs = 5000, what = 'the expected events'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.event))}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The parsed data of every event received, in order. */
  get data(): Array<{ id: string; seq: number; type: string; created_at: string; subject: string | null; data: Record<string, unknown> }> {
    return this.events.map((e) => JSON.parse(e.data) as never);
  }

  close(): void {
    this.#abort.abort();
  }
}
