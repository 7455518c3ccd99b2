/** The work after answered requests waits for the end of a burst (fake timers: no real time). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BurstGate } from '../../../src/slack/io/burst-gate.js';

describe('BurstGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const gate = () => new BurstGate({ quietMs: 5, maxWaitMs: 200, now: () => Date.now() });

  it('starts nothing while requests keep arriving, then everything, in arrival order, once they stop', () => {
    const g = gate();
    const started: number[] = [];
    for (let i = 0; i < 10; i++) {
      g.add(() => started.push(i));
      vi.advanceTimersByTime(3); // the next request comes before the burst is quiet
    }
    expect(started).toEqual([]);
    expect(g.pending).toBe(10);
    vi.advanceTimersByTime(2); // 5 ms after the last arrival
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(g.pending).toBe(0);
  });

  it('a single request waits only the quiet time', () => {
    const g = gate();
    const work = vi.fn();
    g.add(work);
    vi.advanceTimersByTime(4);
    expect(work).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(work).toHaveBeenCalledOnce();
  });

  it('a steady stream does not hold work back beyond the longest wait', () => {
    const g = gate();
    const started: number[] = [];
    let at = 0;
    for (let i = 0; i < 100; i++) {
      g.add(() => started.push(at));
      vi.advanceTimersByTime(2);
      at += 2;
    }
    // every piece of work started at most 200 ms after its request arrived
    expect(started.length).toBeGreaterThan(0);
    started.forEach((startedAt, i) => expect(startedAt - i * 2).toBeLessThanOrEqual(200));
    vi.advanceTimersByTime(5);
    expect(started).toHaveLength(100);
  });

  it('work added after a release waits for its own burst', () => {
    const g = gate();
    const work = vi.fn();
    g.add(() => undefined);
    vi.advanceTimersByTime(5);
    g.add(work);
    expect(work).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(work).toHaveBeenCalledOnce();
  });
});
