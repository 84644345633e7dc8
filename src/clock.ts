// Where the lifecycle reads the time. Production reads the system clock; tests move a TestClock
// forward by days instead of waiting, and the lifecycle SQL takes this "now" as a parameter.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

const DAY_MS = 86_400_000;

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  #now: Date;

  constructor(start: Date = new Date()) {
    this.#now = new Date(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  set(to: Date): void {
    this.#now = new Date(to);
  }

  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }

  advanceDays(days: number): void {
    this.advance(days * DAY_MS);
  }
}
