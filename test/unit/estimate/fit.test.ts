/** Least-squares rates over restores of growing size, and the projection from them (pure). */
import { describe, expect, it } from 'vitest';
import { fitLine, projectRestore, rateOf } from '../../../src/estimate/fit.js';

describe('fitLine', () => {
  it.each([
    ['exact line', [{ x: 0, y: 2 }, { x: 1, y: 4 }, { x: 3, y: 8 }], 2, 2],
    ['noise around y = 1 + x', [{ x: 0, y: 1.1 }, { x: 1, y: 1.9 }, { x: 2, y: 3.1 }, { x: 3, y: 3.9 }], 1.06, 0.96],
    ['one distinct x: the mean, no slope', [{ x: 5, y: 1 }, { x: 5, y: 3 }], 2, 0],
    ['unusable points are left out', [{ x: 0, y: 2 }, { x: Number.NaN, y: 9 }, { x: 1, y: 3 }], 2, 1],
  ])('%s', (_name, points, intercept, slope) => {
    const line = fitLine(points);
    expect(line.intercept).toBeCloseTo(intercept, 6);
    expect(line.slope).toBeCloseTo(slope, 6);
  });
  it('no points: nothing fitted', () => expect(fitLine([]).points).toBe(0));
});

describe('rateOf', () => {
  it('seconds per byte inverted, the intercept as start-up, never negative', () => {
    expect(rateOf({ intercept: 3, slope: 1e-8, points: 6 }, 2)).toEqual({ bytesPerSecond: 1e8, startupSeconds: 3, tailSeconds: 2, samples: 6 });
    expect(rateOf({ intercept: -1, slope: 1e-8, points: 6 }).startupSeconds).toBe(0);
  });
});

describe('projectRestore', () => {
  const rates = {
    'restore-base-backup': { bytesPerSecond: 100e6, startupSeconds: 2, tailSeconds: 0, samples: 6 },
    'replay-wal': { bytesPerSecond: 50e6, startupSeconds: 3, tailSeconds: 5, samples: 6 },
  };
  it.each([
    // 100 GB base at 100 MB/s on 2 cores = 1000 s (+2); 10 GB WAL at 50 MB/s = 200 s (+8).
    ['2 cores as measured', 2, 1002, 208, 'base'],
    // 8 cores: the base four times as fast; replay does not scale.
    ['8 cores', 8, 252, 208, 'base'],
    ['16 cores: replay bounds it', 16, 127, 208, 'replay'],
  ])('%s', (_name, cores, baseSeconds, replaySeconds, bound) => {
    const projection = projectRestore(rates, { baseBytes: 100e9, walBytes: 10e9 }, cores, 2, 10);
    expect(projection).toEqual({ baseSeconds, replaySeconds, fixedSeconds: 10, totalSeconds: baseSeconds + replaySeconds + 10, bound });
  });
});
