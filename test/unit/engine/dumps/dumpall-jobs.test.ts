/**
 * A foreign pg_dumpall's databases, --jobs at a time, through runBounded (as restoreForeignDumpall
 * calls it, its tasks ignoring runBounded's signal): order kept, the limit held, a failure stops
 * new starts but waits for those running.
 */
import { describe, expect, it } from 'vitest';
import { runBounded } from '../../../../src/engine/backup-parts/bounded.js';

const inFileOrder = <T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>) => runBounded(items, jobs, new AbortController().signal, (item) => work(item));

/** A task that finishes when told to, recording how many ran at once. */
function gate() {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const release = new Map<number, (fail?: boolean) => void>();
  const work = (item: number) =>
    new Promise<string>((resolve, reject) => {
      started.push(item);
      running++;
      most = Math.max(most, running);
      release.set(item, (fail) => {
        running--;
        if (fail) reject(new Error(`item ${item} failed`));
        else resolve(`done ${item}`);
      });
    });
  const settle = async (item: number, fail = false) => {
    while (!release.has(item)) await new Promise((resolve) => setImmediate(resolve));
    release.get(item)!(fail);
  };
  return { work, settle, started, most: () => most };
}

describe('a foreign dumpall\'s databases through runBounded', () => {
  it('runs at most `jobs` at once and returns results in the items\' order, whatever order they finish in', async () => {
    const g = gate();
    const all = inFileOrder([1, 2, 3, 4, 5], 2, g.work);
    await g.settle(2);
    await g.settle(1);
    await g.settle(4);
    await g.settle(3);
    await g.settle(5);
    expect(await all).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
    expect(g.most()).toBe(2);
  });

  it('one at a time with jobs 1, and no more workers than items', async () => {
    const g = gate();
    const all = inFileOrder([1, 2], 8, g.work);
    await g.settle(1);
    await g.settle(2);
    await all;
    expect(g.most()).toBe(2);
    const h = gate();
    const one = inFileOrder([1, 2, 3], 1, h.work);
    for (const item of [1, 2, 3]) await h.settle(item);
    await one;
    expect(h.most()).toBe(1);
  });

  it('after a failure starts nothing new, lets the running one finish, then throws the first failure', async () => {
    const g = gate();
    const all = inFileOrder([1, 2, 3, 4], 2, g.work);
    const outcome = all.then(() => 'resolved', (error: Error) => error.message);
    await g.settle(1, true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(g.started).toEqual([1, 2]);
    await g.settle(2);
    expect(await outcome).toBe('item 1 failed');
    expect(g.started).toEqual([1, 2]);
  });
});
