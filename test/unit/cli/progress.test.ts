import { describe, expect, it } from 'vitest';
import { formatAmount, progressBar, terminalProgress } from '../../../src/cli/progress.js';
import type { EngineEvent } from '../../../src/types.js';

describe('progressBar', () => {
  it.each<[number, number | null, number | undefined, string]>([
    [0, 10, 10, '[----------]   0%'],
    [5, 10, 10, '[#####-----]  50%'],
    [10, 10, 10, '[##########] 100%'],
    [1, 3, 10, '[###-------]  33%'],
    [2, 3, 10, '[#######---]  67%'],
    [15, 10, 10, '[##########] 100%'],
    [-5, 10, 10, '[----------]   0%'],
    [3, null, 10, '[??????????]'],
    [3, 0, 4, '[????]'],
    [3, -1, 4, '[????]'],
    [1, 4, undefined, `[${'#'.repeat(8)}${'-'.repeat(22)}]  25%`],
  ])('progressBar(%s, %s, %s) = %j', (done, total, width, bar) => {
    expect(progressBar(done, total, width)).toBe(bar);
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

describe('terminalProgress', () => {
  const at = '2025-01-15T10:00:00.000Z';
  const events: EngineEvent[] = [
    { type: 'job.started', at, command: 'pitr to latest' },
    { type: 'step.started', at, step: 'fetch-wal', title: 'Fetch WAL' },
    { type: 'step.progress', at, step: 'fetch-wal', done: 8 * 1024 ** 2, total: 16 * 1024 ** 2, unit: 'bytes', detail: '3/6' },
    { type: 'step.progress', at, step: 'fetch-wal', done: 9 * 1024 ** 2, total: 16 * 1024 ** 2, unit: 'bytes' },
    { type: 'step.finished', at, step: 'fetch-wal', seconds: 2.345, detail: '6 segments' },
    { type: 'integrity.report', at, report: {} },
    { type: 'job.failed', at, code: 'WAL_GAP', message: 'segment missing' },
  ];

  it('writes one line per event for logs, progress throttled', () => {
    let out = '';
    const sink = terminalProgress({ write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream, false);
    for (const event of events) sink.emit(event);
    expect(out.split('\n')).toEqual([
      '▶ pitr to latest',
      '  … Fetch WAL',
      '    fetch-wal [###############---------------]  50% 8.0 MiB / 16.0 MiB 3/6',
      '  ✓ fetch-wal (2.3 s) — 6 segments',
      '✗ segment missing',
      '',
    ]);
  });

  it('redraws progress in place on a terminal and clears it before the next line', () => {
    let out = '';
    const sink = terminalProgress({ write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream, true);
    sink.emit(events[2]!);
    sink.emit(events[4]!);
    expect(out).toBe('    fetch-wal [###############---------------]  50% 8.0 MiB / 16.0 MiB 3/6\r\x1b[2K  ✓ fetch-wal (2.3 s) — 6 segments\n');
  });
});
