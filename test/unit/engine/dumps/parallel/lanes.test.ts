import { describe, expect, test } from 'vitest';
import { nextJob, runOnLanes, type LaneJob } from '../../../../../src/engine/dumps/parallel/lanes.js';

const job = (id: number, over: Partial<LaneJob> = {}): LaneJob => ({ id, tables: [1], exclusive: false, waitFor: [], weight: 10, cost: 1, order: id, ...over });

describe('nextJob', () => {
  test.each([
    ['nothing pending', [], [], [], null],
    ['waits for what it depends on', [job(1, { waitFor: [9] })], [], [], null],
    ['starts once that is done', [job(1, { waitFor: [9] })], [9], [], 1],
    ['two index builds share a table', [job(2)], [], [job(1)], 2],
    ['a constraint does not start beside a build on its table', [job(2, { exclusive: true })], [], [job(1)], null],
    ['nor a build beside a constraint', [job(2)], [], [job(1, { exclusive: true })], null],
    ['another table is free', [job(2, { exclusive: true, tables: [7] })], [], [job(1, { exclusive: true })], 2],
    ['the heaviest first', [job(1, { weight: 5 }), job(2, { weight: 50 })], [], [], 2],
    ['then the costliest', [job(1, { cost: 1 }), job(2, { cost: 3 })], [], [], 2],
    ['then archive order', [job(2, { order: 5 }), job(1, { order: 1 })], [], [], 1],
    ['a blocked heavy job does not stop a lighter free one', [job(1, { weight: 50, exclusive: true }), job(2, { weight: 5, tables: [3] })], [], [job(9)], 2],
  ])('%s', (_name, pending, done, running, expected) => {
    expect(nextJob(pending as LaneJob[], new Set(done as number[]), running as LaneJob[])?.id ?? null).toBe(expected);
  });
});

/** Jobs that finish when the test says so, recording what ran at once. */
function harness() {
  const started: number[] = [];
  const overlaps: number[][] = [];
  const running = new Set<number>();
  const release = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const run = (item: LaneJob) =>
    new Promise<void>((resolve, reject) => {
      started.push(item.id);
      running.add(item.id);
      overlaps.push([...running].sort());
      release.set(item.id, {
        resolve: () => { running.delete(item.id); resolve(); },
        reject: (error) => { running.delete(item.id); reject(error); },
      });
    });
  const settle = async () => { for (let i = 0; i < 5; i += 1) await Promise.resolve(); };
  return { started, overlaps, release, run, settle };
}

describe('runOnLanes', () => {
  test('never more at once than lanes, a constraint alone on its table, each job after what it waits for', async () => {
    const h = harness();
    const jobs = [job(1, { weight: 30 }), job(2, { weight: 20 }), job(3, { weight: 10, exclusive: true }), job(4, { tables: [2], waitFor: [3], weight: 1 })];
    const done = runOnLanes(jobs, 2, h.run);
    await h.settle();
    expect(h.started).toEqual([1, 2]);
    h.release.get(1)!.resolve();
    await h.settle();
    expect(h.started).toEqual([1, 2]); // 3 is exclusive on table 1 while 2 builds there
    h.release.get(2)!.resolve();
    await h.settle();
    expect(h.started).toEqual([1, 2, 3]);
    h.release.get(3)!.resolve();
    await h.settle();
    h.release.get(4)!.resolve();
    await done;
    expect(h.started).toEqual([1, 2, 3, 4]);
    expect(Math.max(...h.overlaps.map((set) => set.length))).toBeLessThanOrEqual(2);
  });

  test('the first failure stops new starts; the running job settles before it is thrown', async () => {
    const h = harness();
    const done = runOnLanes([job(1, { tables: [1] }), job(2, { tables: [2] }), job(3, { tables: [3] })], 2, h.run);
    let settled = false;
    void done.catch(() => { settled = true; });
    await h.settle();
    h.release.get(1)!.reject(new Error('index build failed'));
    await h.settle();
    expect(h.started).toEqual([1, 2]);
    expect(settled).toBe(false);
    h.release.get(2)!.resolve();
    await expect(done).rejects.toThrow('index build failed');
    expect(h.started).toEqual([1, 2]);
  });

  test('each job learns how many lanes stay idle as it starts', async () => {
    const idle: [number, number][] = [];
    await runOnLanes([job(1, { tables: [1] }), job(2, { tables: [2], waitFor: [1] })], 2, async (item, _lane, idleLanes) => {
      idle.push([item.id, idleLanes]);
    });
    expect(idle).toEqual([[1, 1], [2, 1]]);
    idle.length = 0;
    await runOnLanes([job(1, { tables: [1] }), job(2, { tables: [2] }), job(3, { tables: [3] })], 2, async (item, _lane, idleLanes) => {
      idle.push([item.id, idleLanes]);
    });
    expect(idle.slice(0, 2)).toEqual([[1, 0], [2, 0]]);
  });

  test('a plan that waits for a job it does not have, or for itself in a ring, is an error, not a hang', async () => {
    await expect(runOnLanes([job(1, { waitFor: [5] })], 2, async () => undefined)).rejects.toThrow('1 waits for 5');
    await expect(runOnLanes([job(1, { waitFor: [2] }), job(2, { waitFor: [1] })], 2, async () => undefined)).rejects.toThrow(/cannot go on: 1, 2/);
  });
});
