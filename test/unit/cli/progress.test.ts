import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../../../src/cli/progress.js';
import type { EngineEvent } from '../../../src/types.js';

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
