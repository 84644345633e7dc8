// The fan-out of one API process: follows the outbox from its own position in memory (no lease:
// every API process reads every event) and hands each event to the open streams of its user.
// A commit signal wakes it at once; a poll is the safety net for signals that never come.
import type { Database } from '../db/connect.js';
import { type ConsumedEvent, eventsAfter } from '../events/queries.js';
import type { CommitSignal } from './commit-signal.js';
import type { StreamConnection, StreamEvent } from './connection.js';
import { encodePosition, type Position } from './position.js';
import { committedButHeld, currentPosition } from './queries.js';

export interface HubSettings {
  pollMs: number;
  batch: number;
}

/** The SSE frame of an event: id (the resumable position), event (the type), data (the event). */
export function streamEvent(row: ConsumedEvent): StreamEvent {
  const position = { xid: row.xid, seq: row.seq };
  const data = JSON.stringify({ id: row.id, seq: row.seq, type: row.type, created_at: row.created_at.toISOString(), subject: row.subject, data: row.data });
  return { position, userId: row.user_id!, frame: `id: ${encodePosition(position)}\nevent: ${row.type}\ndata: ${data}\n\n` };
}

/** How soon to look again for events already committed but held back by an older transaction. */
const HELD_RECHECK_MS = 25;
/** How long the first stream waits for the cross-process signal before it opens regardless. */
const SUBSCRIBE_WAIT_MS = 2000;

export class StreamHub {
  readonly #streams = new Map<number, Set<StreamConnection>>();
  #position: Position | undefined;
  #starting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #held = false;
  #stopped = false;
  #unlisten: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly signal: CommitSignal,
    private readonly settings: HubSettings,
    private readonly log: { warn(details: object, message: string): void },
  ) {}

  streamsOf(userId: number): number {
    return this.#streams.get(userId)?.size ?? 0;
  }

  get size(): number {
    let n = 0;
    for (const set of this.#streams.values()) n += set.size;
    return n;
  }

  /**
   * Starts following the outbox if this is the process's first stream, then registers the stream:
   * from here on it gets every event the fan-out reads, which are all after what a replay begun
   * now can miss (see currentPosition).
   */
  async add(stream: StreamConnection): Promise<void> {
    await this.#start();
    let set = this.#streams.get(stream.userId);
    if (!set) this.#streams.set(stream.userId, (set = new Set()));
    set.add(stream);
  }

  remove(stream: StreamConnection): void {
    const set = this.#streams.get(stream.userId);
    set?.delete(stream);
    if (set?.size === 0) this.#streams.delete(stream.userId);
  }

  /** Ends every open stream (server shutdown); their clients reconnect with Last-Event-ID. */
  endAll(): void {
    for (const set of this.#streams.values()) for (const stream of set) stream.end();
    this.#streams.clear();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.endAll();
    this.#unlisten?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #start(): Promise<void> {
    this.#starting ??= (async () => {
      this.#position = await currentPosition(this.db);
      this.#unlisten = this.signal.listen(this.#nudge);
      // Bounded: with Redis away the stream opens anyway and runs on the poll.
      await Promise.race([this.signal.subscribed(), new Promise((r) => setTimeout(r, SUBSCRIBE_WAIT_MS).unref())]);
      this.#schedule(0);
    })().catch((err: unknown) => {
      this.#starting = undefined;
      throw err;
    });
    return this.#starting;
  }

  readonly #nudge = (): void => {
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) this.#schedule(0);
  };

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#tick, ms);
  }

  readonly #tick = (): void => {
    this.#again = false;
    this.#held = false;
    this.#running = this.#pass().catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'stream fan-out could not read the outbox; it will try again');
    });
    void this.#running.finally(() => {
      this.#running = undefined;
      this.#schedule(this.#again ? 0 : this.#held ? HELD_RECHECK_MS : this.settings.pollMs);
    });
  };

  async #pass(): Promise<void> {
    for (;;) {
      const rows = await eventsAfter(this.db, this.#position!, this.settings.batch);
      for (const row of rows) {
        this.#position = { xid: row.xid, seq: row.seq };
        const streams = row.user_id === null ? undefined : this.#streams.get(row.user_id);
        if (!streams) continue;
        const event = streamEvent(row);
        for (const stream of streams) stream.deliver(event);
      }
      if (rows.length < this.settings.batch) break;
    }
    this.#held = await committedButHeld(this.db, this.#position!);
  }
}
