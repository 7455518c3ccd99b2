import { describe, expect, it } from 'vitest';
import { runBounded, Slots } from '../../../../src/engine/backup-parts/bounded.js';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runBounded', () => {
  it.each([1, 2, 4, 9])('never runs more than %i tasks at once, and runs every item once', async (limit) => {
    const gates = Array.from({ length: 9 }, gate);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const run = runBounded(gates, limit, new AbortController().signal, async (g, index) => {
      started.push(index);
      active++;
      peak = Math.max(peak, active);
      await g.opened;
      active--;
      return index * 10;
    });
    for (const g of gates) {
      await tick();
      expect(active).toBeLessThanOrEqual(limit);
      g.open();
    }
    expect(await run).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(peak).toBe(Math.min(limit, 9));
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('the first failure aborts the running tasks, starts no more, waits for them and is the error thrown', async () => {
    const settled: number[] = [];
    const started: number[] = [];
    const run = runBounded([0, 1, 2, 3, 4, 5], 3, new AbortController().signal, async (item, _index, signal) => {
      started.push(item);
      if (item === 1) throw new Error('part 1 is corrupt');
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }));
      settled.push(item);
    }).catch((error: Error) => error.message);
    expect(await run).toBe('part 1 is corrupt');
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toEqual([]);
  });

  it('a cancelled job stops it', async () => {
    const parent = new AbortController();
    const run = runBounded([0, 1], 1, parent.signal, (_item, _index, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })));
    parent.abort(new Error('job cancelled'));
    await expect(run).rejects.toThrow('job cancelled');
  });
});

describe('Slots', () => {
  it('hands a released slot to the next waiter; an aborted waiter leaves the queue', async () => {
    const slots = new Slots(2);
    const a = await slots.acquire();
    await slots.acquire();
    expect(slots.inUse).toBe(2);
    const aborted = new AbortController();
    const third = slots.acquire(aborted.signal);
    let fourthGot = false;
    const fourth = slots.acquire().then((release) => {
      fourthGot = true;
      return release;
    });
    aborted.abort(new Error('stop'));
    await expect(third).rejects.toThrow('stop');
    await tick();
    expect(fourthGot).toBe(false);
    a();
    a(); // releasing twice is harmless
    (await fourth)();
    expect(slots.inUse).toBe(1);
  });
});
