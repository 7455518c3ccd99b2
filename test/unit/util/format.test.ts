import { describe, expect, it } from 'vitest';
import { formatAmount, linesWithin, progressBar } from '../../../src/util/format.js';

describe('progressBar', () => {
  it.each<[number, number | null, number | undefined, string]>([
    [0, 10, 10, '[----------]   0%'],
    [5, 10, 10, '[#####-----]  50%'],
    [10, 10, 10, '[##########] 100%'],
    [1, 3, 10, '[###-------]  33%'],
    [2, 3, 10, '[#######---]  66%'], // floored: never 100% before done
    [999, 1000, 10, '[##########]  99%'],
    [15, 10, 10, '[##########] 100%'],
    [-5, 10, 10, '[----------]   0%'],
    [3, null, 10, '[??????????]'],
    [3, 0, 4, '[????]'],
    [3, -1, 4, '[????]'],
    [1, 4, 30, `[${'#'.repeat(8)}${'-'.repeat(22)}]  25%`],
  ])('progressBar(%s, %s, %s) = %j', (done, total, width, bar) => {
    expect(progressBar(done, total, width, true)).toBe(bar);
  });
});

describe('formatAmount', () => {
  it.each([
    [0, 'bytes', '0 KiB'],
    [1536, 'bytes', '2 KiB'],
    [1024 * 1023, 'bytes', '1023 KiB'],
    [1024 ** 2, 'bytes', '1.0 MiB'],
    [16 * 1024 ** 2, 'wal-bytes', '16.0 MiB'],
    [1.5 * 1024 ** 3, 'bytes', '1.50 GiB'],
    [1024 ** 4, 'bytes', '1024.00 GiB'],
    [7, 'segments', '7 segments'],
    [0, 'rows', '0 rows'],
  ])('formatAmount(%s, %s) = %j', (value, unit, text) => {
    expect(formatAmount(value, unit)).toBe(text);
  });
});

describe('progressBar without padding (Slack)', () => {
  it('is compact', () => {
    expect(progressBar(52, 100)).toBe('[#####-----] 52%');
    expect(progressBar(5, null)).toBe('[??????????]');
  });
});

describe('linesWithin', () => {
  it('keeps whole lines within the budget, then says how many were left out', () => {
    expect(linesWithin(['aaaa', 'bbbb', 'cccc'], 10, (n) => `+${n}`)).toEqual(['aaaa', 'bbbb', '+1']);
    expect(linesWithin(['aa', 'bb'], 10, (n) => `+${n}`)).toEqual(['aa', 'bb']);
    expect(linesWithin(['a very long line'], 5, (n) => `+${n}`)).toEqual(['+1']);
  });
});
