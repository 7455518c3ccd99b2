import { expect, test } from 'vitest';
import { runPool } from '../../../../src/engine/integrity/count-pool.js';

/** A fake clock that each item's work advances by its cost; sessions are numbered. */
function harness(costs: Record<string, number>, parallel: number, budget: number, failing: string[] = []) {
  let clock = 0;
  let opened = 0;
  let running = 0;
  let maxRunning = 0;
  const seen: { item: string; session: number; remaining: number }[] = [];
  const run = () =>
    runPool(Object.keys(costs), {
      parallel,
      deadline: budget,
      now: () => clock,
      session: async (use) => use(++opened),
      run: async (session: number, item: string, remaining: number) => {
        seen.push({ item, session, remaining });
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setImmediate(resolve));
        clock += costs[item]!;
        running -= 1;
        if (failing.includes(item)) throw new Error(`${item} broke`);
        return item.toUpperCase();
      },
    });
  return { run, seen, opened: () => opened, maxRunning: () => maxRunning };
}

test('every item done within the budget, never more than `parallel` at once, one session per worker', async () => {
  const h = harness({ a: 1, b: 1, c: 1, d: 1, e: 1 }, 2, 1000);
  const outcomes = await h.run();
  expect(outcomes).toEqual(['A', 'B', 'C', 'D', 'E'].map((value) => ({ kind: 'done', value })));
  expect(h.opened()).toBe(2);
  expect(h.maxRunning()).toBe(2);
});

test('items not started before the deadline are skipped; statements get the remaining budget', async () => {
  const h = harness({ a: 40, b: 40, c: 40, d: 40 }, 1, 100);
  const outcomes = await h.run();
  // a (0→40), b (40→80), c starts at 80 with 20 ms left (its statement_timeout) and completes; d starts after the deadline: skipped.
  expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'done', 'skipped']);
  expect(h.seen.map((s) => s.remaining)).toEqual([100, 60, 20]);
});

test('a failure after the deadline is skipped (the budget cancelled it), before it is a failure', async () => {
  const h = harness({ a: 10, b: 200 }, 1, 100, ['a', 'b']);
  const outcomes = await h.run();
  expect(outcomes[0]).toMatchObject({ kind: 'failed' });
  expect(outcomes[1]).toEqual({ kind: 'skipped' });
});

test('no more workers than items; none for no items; sessions that cannot open fail the items with the reason', async () => {
  await expect(harness({ a: 1 }, 4, 100).run()).resolves.toHaveLength(1);
  const empty = harness({}, 4, 100);
  expect(await empty.run()).toEqual([]);
  expect(empty.opened()).toBe(0);
  const outcomes = await runPool(['a', 'b'], { parallel: 2, deadline: 100, now: () => 0, session: async () => Promise.reject(new Error('too many connections')), run: async () => 1 });
  expect(outcomes).toEqual([{ kind: 'failed', error: new Error('too many connections') }, { kind: 'failed', error: new Error('too many connections') }]);
});
