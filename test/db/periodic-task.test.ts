// The loop behind the background passes: when passes run, what a failure or a wake-up does, and
// that stop() waits for the pass in progress.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logFailedPass, PeriodicTask } from '../../src/db/periodic-task.js';

/** A pass the test finishes by hand; `calls` counts the passes started. */
function controlledPass() {
  const state: { calls: number; finish: (err?: Error) => void } = { calls: 0, finish: () => undefined };
  const pass = () => {
    state.calls += 1;
    return new Promise<void>((resolve, reject) => {
      state.finish = (err) => (err ? reject(err) : resolve());
    });
  };
  return { state, pass };
}

describe('PeriodicTask', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the first pass at once and the next one an interval after the previous ended, never two at a time', async () => {
    const { state, pass } = controlledPass();
    const task = new PeriodicTask(pass, { intervalMs: 1000, onError: () => undefined });
    task.start();
    task.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(state.calls).toBe(1);
    state.finish();
    await vi.advanceTimersByTimeAsync(999);
    expect(state.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.calls).toBe(2);
    state.finish();
    await task.stop();
  });

  it('hands a failed pass to onError and carries on', async () => {
    const { state, pass } = controlledPass();
    const onError = vi.fn();
    const task = new PeriodicTask(pass, { intervalMs: 1000, onError });
    task.start();
    await vi.advanceTimersByTimeAsync(0);
    const failure = new Error('database away');
    state.finish(failure);
    await vi.advanceTimersByTimeAsync(1000);
    expect(onError).toHaveBeenCalledWith(failure);
    expect(state.calls).toBe(2);
    state.finish();
    await task.stop();
  });

  it('wakes up early: at once when idle, right after the pass when one is running, not at all when stopped', async () => {
    const { state, pass } = controlledPass();
    const task = new PeriodicTask(pass, { intervalMs: 60_000, onError: () => undefined });
    task.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toBe(0);

    task.start();
    await vi.advanceTimersByTimeAsync(0);
    state.finish();
    await vi.advanceTimersByTimeAsync(0);
    task.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toBe(2);

    task.wake();
    state.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(state.calls).toBe(3);
    state.finish();
    await task.stop();
  });

  it('stop() waits for the pass in progress and no pass follows it', async () => {
    const { state, pass } = controlledPass();
    const task = new PeriodicTask(pass, { intervalMs: 10, onError: () => undefined });
    task.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    state.finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(100);
    expect(state.calls).toBe(1);
  });
});

describe('logFailedPass', () => {
  it('warns with the message alone when the database is unavailable, and logs anything else as an error', () => {
    const log = { warn: vi.fn(), error: vi.fn() };
    const onError = logFailedPass(log as never, { unavailable: 'pass skipped', failed: 'pass failed' });
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    onError(outage);
    expect(log.warn).toHaveBeenCalledWith({ err: outage.message }, 'pass skipped');
    const bug = new TypeError('x is undefined');
    onError(bug);
    expect(log.error).toHaveBeenCalledWith({ err: bug }, 'pass failed');
  });
});
