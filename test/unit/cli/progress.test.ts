import { afterEach, describe, expect, it, vi } from 'vitest';
import { terminalProgress } from '../../../src/cli/progress.js';
import type { EngineEvent } from '../../../src/types.js';

describe('terminalProgress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
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

  it('shows the time left once the step has moved bytes for a while, from its own rate', () => {
    let out = '';
    const sink = terminalProgress({ write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream, false);
    const t = (seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();
    sink.emit({ type: 'step.started', at: t(0), step: 'restore-base-backup', title: 'Restore base backup' });
    // 1 MiB/s between the first and the latest progress: 6 MiB left take ~6 s.
    sink.emit({ type: 'step.progress', at: t(1), step: 'restore-base-backup', done: 2 * 1024 ** 2, total: 12 * 1024 ** 2, unit: 'bytes' });
    expect(out).not.toContain('left'); // one point is no rate yet (and nothing moved before it is known)
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5000); // past the 2 s between lines for logs
    sink.emit({ type: 'step.progress', at: t(5), step: 'restore-base-backup', done: 6 * 1024 ** 2, total: 12 * 1024 ** 2, unit: 'bytes' });
    expect(out.trim().split('\n').at(-1)).toBe('    restore-base-backup [###############---------------]  50% 6.0 MiB / 12.0 MiB, ~6.0 s left');
  });

  it("replay's time left allows for its slow first half-gigabyte, as a pool's first restore in Slack does", () => {
    let out = '';
    const sink = terminalProgress({ write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream, false);
    const t = (seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();
    const MiB = 1024 ** 2;
    sink.emit({ type: 'step.started', at: t(0), step: 'replay-wal', title: 'Replay WAL' });
    sink.emit({ type: 'step.progress', at: t(1), step: 'replay-wal', done: 50 * MiB, total: 3512 * MiB, unit: 'bytes' });
    expect(out).not.toContain('left');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5000);
    // 300 MiB in 2 s inside the first 512 MiB: counted 2.5x, 375 MiB/s after it; left: 212 x 2.5 + 3000 MiB → 9.4 s, plus 2 s of
    // tail (at the 150 MiB/s seen so far it would say 21 s).
    sink.emit({ type: 'step.progress', at: t(3), step: 'replay-wal', done: 350 * MiB, total: 3512 * MiB, unit: 'bytes' });
    expect(out.trim().split('\n').at(-1)).toMatch(/ 350\.0 MiB \/ 3\.43 GiB, ~11 s left$/);
  });

  it('redraws progress in place on a terminal and clears it before the next line', () => {
    let out = '';
    const sink = terminalProgress({ write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream, true);
    sink.emit(events[2]!);
    sink.emit(events[4]!);
    expect(out).toBe('    fetch-wal [###############---------------]  50% 8.0 MiB / 16.0 MiB 3/6\r\x1b[2K  ✓ fetch-wal (2.3 s) — 6 segments\n');
  });
});
