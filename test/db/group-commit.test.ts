// The batching rules every group-committed write relies on: a call alone goes at once, calls that
// arrive while a batch runs share the next one, batches stay within their size, calls of one key
// never share a batch and keep their order, and each caller gets its own outcome.
import { describe, expect, it } from 'vitest';
import { GroupCommit, type Settled } from '../../src/db/group-commit.js';

interface Call {
  key: string;
  value: number;
}

/** A batch runner whose batches finish only when the test says so. */
function controlledRunner() {
  const batches: Call[][] = [];
  const releases: Array<() => void> = [];
  const run = async (items: Call[]): Promise<Settled<number>[]> => {
    batches.push(items);
    await new Promise<void>((resolve) => releases.push(resolve));
    return items.map((item) => (item.value < 0 ? { ok: false, error: new Error(`refused ${item.value}`) } : { ok: true, value: item.value * 10 }));
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { run, batches, releases, releaseAll };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('group commit', () => {
  it('runs a call alone at once and gathers the calls that arrive meanwhile into the next batch', async () => {
    const runner = controlledRunner();
    const group = new GroupCommit(runner.run, { maxWaitMs: 10_000, maxSize: 10 });
    const first = group.submit({ key: 'a', value: 1 });
    expect(runner.batches).toEqual([[{ key: 'a', value: 1 }]]);
    const later = [2, 3, 4].map((value) => group.submit({ key: `k${value}`, value }));
    await tick();
    expect(runner.batches).toHaveLength(1);
    await runner.releaseAll();
    await runner.releaseAll();
    expect(runner.batches.map((b) => b.map((c) => c.value))).toEqual([[1], [2, 3, 4]]);
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
  });

  it('starts a waiting batch after maxWaitMs even while another runs, and never exceeds maxSize', async () => {
    const runner = controlledRunner();
    const group = new GroupCommit(runner.run, { maxWaitMs: 5, maxSize: 3 });
    const calls = [1, 2, 3, 4, 5, 6, 7, 8].map((value) => group.submit({ key: `k${value}`, value }));
    await tick();
    expect(runner.batches.map((b) => b.map((c) => c.value))).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
    await runner.releaseAll();
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });

  it('keeps calls of one key out of the same and of concurrent batches, in arrival order', async () => {
    const runner = controlledRunner();
    const group = new GroupCommit(runner.run, { maxWaitMs: 1, maxSize: 10, keyOf: (c: Call) => c.key });
    const calls = [
      group.submit({ key: 'a', value: 1 }),
      group.submit({ key: 'a', value: 2 }),
      group.submit({ key: 'b', value: 3 }),
      group.submit({ key: 'a', value: 4 }),
      group.submit({ key: 'c', value: 5 }),
    ];
    await tick();
    // 'a' is running: its later calls wait, the other keys go ahead.
    expect(runner.batches.map((b) => b.map((c) => c.value))).toEqual([[1], [3, 5]]);
    await runner.releaseAll();
    await tick();
    await runner.releaseAll();
    await tick();
    await runner.releaseAll();
    expect(runner.batches.map((b) => b.map((c) => c.value))).toEqual([[1], [3, 5], [2], [4]]);
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50]);
  });

  it('gives each caller its own outcome, and every caller the error of a batch that throws', async () => {
    const runner = controlledRunner();
    const group = new GroupCommit(runner.run, { maxWaitMs: 1, maxSize: 10 });
    const outcomes = Promise.allSettled([group.submit({ key: 'a', value: 1 }), group.submit({ key: 'b', value: -1 })]);
    await tick();
    await runner.releaseAll();
    const [ok, refused] = await outcomes;
    expect(ok).toEqual({ status: 'fulfilled', value: 10 });
    expect(refused).toMatchObject({ status: 'rejected', reason: new Error('refused -1') });

    const failing = new GroupCommit<Call, number>(
      async () => {
        throw new Error('database gone');
      },
      { maxWaitMs: 1, maxSize: 10 },
    );
    const both = await Promise.allSettled([failing.submit({ key: 'a', value: 1 }), failing.submit({ key: 'b', value: 2 })]);
    expect(both.map((b) => b.status === 'rejected' && (b.reason as Error).message)).toEqual(['database gone', 'database gone']);
  });
});
