// One client's stream: SSE frames into the response body, heartbeats, and the switch from the
// replay (read from the database) to the live feed (from the fan-out) without gap or duplicate.
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { comparePositions, type Position } from './position.js';

/** An outbox event ready to send: one frame shared by every stream of its user. */
export interface StreamEvent {
  position: Position;
  userId: number;
  frame: string;
}

export interface ConnectionSettings {
  heartbeatMs: number;
  /** Bytes waiting for a client beyond which it counts as unable to keep up and is dropped. */
  bufferBytes: number;
}

export class StreamConnection {
  /** What Fastify sends as the response; ending it ends the response. */
  readonly body = new PassThrough();
  /** The last event sent; nothing at or before it is sent again. */
  #position: Position | undefined;
  /** Live events that arrive while the replay runs, sent after it; undefined once live. */
  #held: StreamEvent[] | undefined = [];
  #heldBytes = 0;
  readonly #heartbeat: NodeJS.Timeout;
  #dropped = false;

  constructor(
    readonly userId: number,
    private readonly settings: ConnectionSettings,
  ) {
    this.#heartbeat = setInterval(() => this.#write(': ping\n\n'), settings.heartbeatMs);
    this.body.once('close', () => clearInterval(this.#heartbeat));
    // Sent at once, so that the client sees the response start before the first event.
    this.body.write(': connected\n\n');
  }

  get open(): boolean {
    return !this.body.destroyed && !this.body.writableEnded;
  }

  /** From the fan-out: sent now when live, held while the replay runs. */
  deliver(event: StreamEvent): void {
    if (!this.open) return;
    if (this.#held) {
      this.#held.push(event);
      this.#heldBytes += event.frame.length;
      if (this.#heldBytes > this.settings.bufferBytes) this.drop();
      return;
    }
    this.#send(event);
  }

  /**
   * Sends what `fetch` returns (the user's events after a position, in outbox order) page by page,
   * at the client's pace, then the live events held meanwhile that came after them.
   */
  async replay(from: Position | undefined, fetch: (after: Position) => Promise<StreamEvent[]>, pageSize: number): Promise<void> {
    if (from) {
      this.#position = from;
      for (;;) {
        const page = await fetch(this.#position);
        for (const event of page) {
          if (!this.open) return;
          this.#position = event.position;
          if (!this.body.write(event.frame)) await Promise.race([once(this.body, 'drain'), once(this.body, 'close')]);
        }
        if (page.length < pageSize) break;
      }
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#send(event);
  }

  #send(event: StreamEvent): void {
    if (this.#position && comparePositions(event.position, this.#position) <= 0) return;
    this.#position = event.position;
    this.#write(event.frame);
  }

  #write(text: string): void {
    if (!this.open) return;
    this.body.write(text);
    // A client that reads slower than its events come would hold them here without end: it is
    // dropped instead and comes back with Last-Event-ID, when the replay sends at its pace.
    if (this.body.writableLength + this.body.readableLength > this.settings.bufferBytes) this.drop();
  }

  /** Ends the stream cleanly (server shutdown): the client reconnects elsewhere. */
  end(): void {
    clearInterval(this.#heartbeat);
    if (this.open) this.body.end();
  }

  /** Cuts the stream without waiting for what is buffered. */
  drop(): void {
    this.#dropped = true;
    clearInterval(this.#heartbeat);
    this.body.destroy();
  }

  get dropped(): boolean {
    return this.#dropped;
  }
}
